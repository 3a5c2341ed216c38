"""The fast JSON Lines scanner gives exactly the careful reader's verdicts, line for line.

`scan_jsonl` lets orjson vouch for the common line and sends everything else to the careful
judge that `read_jsonl` applies to every line; any difference would change what lands in raw
versus raw.ingest_errors. Hypothesis feeds both the same bytes, with the scanner's read size
shrunk so lines straddle chunk boundaries.
"""

from __future__ import annotations

import io
import json
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.ingest import readers
from workbench.ingest.readers import Block, blocks_of, read_jsonl, scan_jsonl

HOSTILE_LINES = [
    b"",
    b"   \t ",
    b"NaN",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999999}',
    b'{"a": 1e400}',
    b'{"a": 1' + b"0" * 5000 + b"}",
    b'{"a": "\\u0000"}',
    b'{"a\\u0000": 1}',
    b'{"a": "\\\\u0000"}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\ud83d\\ude00"}',
    b'{"a": "\xf0\x9f\x98\x80"}',
    b'{"a": "caf\xe9"}',
    b"\xef\xbb\xbf{}",
    b"[1, 2]",
    b'"text"',
    b"{}",
    b'{"a": 1, "a": 2}',
    b'{"a": 1}\r',
    b'{"a": 1}\r\r',
    b'{"a": "tab\there"}',
    b"[" * 3000 + b"]" * 3000,
    b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"a": 1} {"b": 2}',
    b'{"a": 1},',
    b"{'a': 1}",
    b'{"a": -0, "b": 1E5, "c": 0.1e-7}',
]

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None, exclude_categories=())),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _lines(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["object", "value", "hostile", "bytes"]))
    if kind == "hostile":
        return draw(st.sampled_from(HOSTILE_LINES))
    if kind == "bytes":
        return draw(st.binary(max_size=40)).replace(b"\n", b" ")
    value = (
        draw(st.dictionaries(st.text(max_size=8), _json_values, max_size=4))
        if kind == "object"
        else draw(_json_values)
    )
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def _flatten(blocks: list[Block]) -> Block:
    records = [record for block in blocks for record in block[0]]
    errors = [error for block in blocks for error in block[1]]
    return records, errors


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(_lines(), max_size=12),
    bom=st.booleans(),
    final_newline=st.booleans(),
    chunk=st.integers(min_value=1, max_value=96),
)
def test_scan_jsonl_agrees_with_the_careful_reader(
    lines: list[bytes], bom: bool, final_newline: bool, chunk: int
) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines)
    if final_newline:
        data += b"\n"
    careful = _flatten(list(blocks_of(read_jsonl(io.BytesIO(data)), size=1 << 30)))
    with mock.patch.object(readers, "_CHUNK_BYTES", chunk):
        fast = _flatten(list(scan_jsonl(io.BytesIO(data))))
    assert fast == careful


def test_every_hostile_line_gets_the_same_verdict_at_the_default_chunk_size() -> None:
    data = b"\n".join(HOSTILE_LINES) + b"\n"
    careful = _flatten(list(blocks_of(read_jsonl(io.BytesIO(data)))))
    fast = _flatten(list(scan_jsonl(io.BytesIO(data))))
    assert fast == careful
    accepted = {number for number, _ in fast[0]}
    rejected = {row[0] for row in fast[1]}
    assert not accepted & rejected
    blank = {i + 1 for i, line in enumerate(HOSTILE_LINES) if not line.strip()}
    assert accepted | rejected | blank == set(range(1, len(HOSTILE_LINES) + 1))
    assert len(accepted) >= 8 and len(rejected) >= 15  # both paths really exercised
