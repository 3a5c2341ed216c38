"""A request body as the records and the rejected lines of one "file" (readers' blocks).

Every format is judged by workbench/ingest/readers, so a record sent over HTTP is accepted or
refused exactly as the same record in a landing file would be:
- NDJSON (`application/x-ndjson`) and CSV (`text/csv`, the file header contract) are read by
  the file readers themselves; `source_row` is the body's line number;
- JSON (`application/json`) is one object or an array of objects; each object's own text is
  judged (and kept as sent) by the JSON Lines judge, `source_row` being its position (1-based).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from workbench.ingest.readers import (
    Block,
    FileFormatError,
    StageRow,
    blocks_of,
    classify_jsonl_line,
    read_csv,
    scan_jsonl,
)

# Content type (without parameters) -> body format.
FORMATS: dict[str, str] = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "text/csv": "csv",
}

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


class UnsupportedMediaType(ValueError):
    """The Content-Type is none of FORMATS, or names a charset other than UTF-8."""


@dataclass
class ParsedBody:
    records: list[tuple[int, bytes]] = field(default_factory=list)
    errors: list[StageRow] = field(default_factory=list)

    def add(self, block: Block) -> None:
        self.records.extend(block[0])
        self.errors.extend(block[1])


def body_format(content_type: str | None) -> str:
    """The format a Content-Type header names; raises UnsupportedMediaType."""
    media, _, parameters = (content_type or "").partition(";")
    fmt = FORMATS.get(media.strip().lower())
    if fmt is None:
        accepted = ", ".join(FORMATS)
        raise UnsupportedMediaType(f"Content-Type {media.strip() or '(none)'!r}; send {accepted}")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"charset {charset!r}; bodies are UTF-8")
    return fmt


def parse_body(fmt: str, body: bytes) -> ParsedBody:
    """Records and rejected lines of a body; never raises on bad content."""
    parsed = ParsedBody()
    if fmt == "ndjson":
        for block in scan_jsonl(io.BytesIO(body)):
            parsed.add(block)
    elif fmt == "csv":
        try:
            for block in blocks_of(read_csv(io.BytesIO(body))):
                parsed.add(block)
        except FileFormatError as error:
            parsed.errors.append((1, None, _text(body), str(error)))
    else:
        parsed.add(_json_block(body))
    return parsed


def _json_block(body: bytes) -> Block:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        row = classify_jsonl_line(1, body)  # says where the bad byte is
        return ([], [row]) if row is not None else ([], [])
    start = _skip(text, 0)
    if start < len(text) and text[start] == "[":
        return _array_block(text, start + 1)
    row = classify_jsonl_line(1, text.encode())
    if row is None:
        return [], []
    return ([(1, text.strip().encode())], []) if row[1] is not None else ([], [row])


def _array_block(text: str, position: int) -> Block:
    """Each element of a JSON array judged on its own text; a broken array stops at the break,
    the rest of the body kept as one rejected line."""
    records: list[tuple[int, bytes]] = []
    errors: list[StageRow] = []
    number = 0
    position = _skip(text, position)
    if position < len(text) and text[position] == "]":
        return records, _trailing(text, position + 1, number)
    while position < len(text):
        number += 1
        try:
            _value, end = _DECODER.raw_decode(text, position)
        except (ValueError, RecursionError) as error:
            errors.append((number, None, _shown(text[position:]), f"invalid JSON array: {error}"))
            return records, errors
        element = text[position:end]
        row = classify_jsonl_line(number, element.encode())
        if row is not None and row[1] is not None:
            records.append((number, element.encode()))
        elif row is not None:
            errors.append(row)
        position = _skip(text, end)
        if position < len(text) and text[position] == ",":
            position = _skip(text, position + 1)
            continue
        if position < len(text) and text[position] == "]":
            return records, errors + _trailing(text, position + 1, number)
        break
    errors.append((number + 1, None, _shown(text[position:]), "invalid JSON array: no closing ]"))
    return records, errors


def _trailing(text: str, position: int, number: int) -> list[StageRow]:
    rest = text[position:].strip(_WHITESPACE)
    return [(number + 1, None, _shown(rest), "text after the JSON array")] if rest else []


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _text(body: bytes) -> str:
    return _shown(body.decode("utf-8", "backslashreplace"))


def _shown(text: str) -> str:
    return text.replace("\x00", "\\x00")
