"""Parse landing files into stage rows, never raising on bad content.

A stage row is ``(source_row, payload, raw_text, reason)``: either a record (payload is JSON
object text, raw_text and reason None) or a line that cannot become a record (payload None, the
raw text and why). `source_row` is the 1-based physical line number where the record starts, so
a person can open the file at that line; blank lines are skipped and a CSV header is line 1.

Decisions, documented in docs/data.md:
- a UTF-8 byte order mark at the start of a file is dropped (an encoding marker, not data);
- JSON Lines records are kept as sent (the line's text goes to PostgreSQL unchanged);
- CSV values stay strings, exactly as in the file (no trimming, empty stays "");
- NUL characters and lone UTF-16 surrogates cannot be stored in jsonb, so such records are
  refused with a reason; in raw_text a NUL byte is shown as the 4 characters \\x00 and an
  undecodable byte as \\xNN.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO, cast

import orjson

StageRow = tuple[int, str | None, str | None, str | None]
# A block of one file: records as (source_row, payload bytes as landed) and the lines that
# cannot become records, both in line order.
Block = tuple[list[tuple[int, bytes]], list[StageRow]]

_CHUNK_BYTES = 1 << 20

_BOM = codecs.BOM_UTF8
# PostgreSQL numeric holds up to 131072 digits before and 16383 after the decimal point.
_MAX_EXPONENT = 100_000
_FLOAT = re.compile(r"-?\d+(?:\.(\d+))?(?:[eE]([+-]?\d+))?")
_SURROGATES = re.compile("[\ud800-\udfff]")


class FileFormatError(ValueError):
    """The file as a whole cannot be read (for example a CSV header with duplicate names)."""


def _shown(text: str) -> str:
    return text.replace("\x00", "\\x00")


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _checked_float(text: str) -> str:
    match = _FLOAT.fullmatch(text)
    if match and match.group(2) and abs(int(match.group(2))) > _MAX_EXPONENT:
        raise ValueError(f"number {text[:40]} is out of range for PostgreSQL")
    return text  # only checked; the line's own text is what gets stored


def _unstorable(value: object) -> str | None:
    """Why jsonb cannot hold this decoded JSON value, if it cannot."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts: list[str] = [item]
        elif isinstance(item, dict):
            texts = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in texts:
            if "\x00" in text:
                return "contains \\u0000 (NUL), which PostgreSQL jsonb cannot store"
            if _SURROGATES.search(text):
                return "contains an unpaired UTF-16 surrogate escape, which jsonb cannot store"
    return None


def read_jsonl(stream: io.BufferedIOBase) -> Iterator[StageRow]:
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        row = classify_jsonl_line(number, raw)
        if row is not None:
            yield row


def classify_jsonl_line(number: int, raw: bytes) -> StageRow | None:
    """The stage row for one physical line (None for a blank line): the careful, slow judge."""
    line = raw.rstrip(b"\r\n")
    if not line.strip():
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        shown = _shown(line.decode("utf-8", "backslashreplace"))
        return number, None, shown, f"invalid UTF-8 (byte {error.start + 1} of the line)"
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_checked_float)
    except (ValueError, RecursionError) as error:
        return number, None, _shown(text), f"invalid JSON: {error}"
    if not isinstance(value, dict):
        kind = type(value).__name__.replace("list", "array").replace("str", "string")
        return number, None, _shown(text), f"JSON {kind}, not an object"
    if "\\u" in text:
        problem = _unstorable(value)
        if problem:
            return number, None, _shown(text), problem
    return number, text, None, None


def scan_jsonl(stream: io.BufferedIOBase) -> Iterator[Block]:
    """JSON Lines as blocks of (records, errors), judged exactly as :func:`read_jsonl` does.

    The hot loop lets orjson vouch for a line: a JSON object it parses, free of the \\u0000
    escape, is a record jsonb accepts (orjson refuses NaN, lone surrogates and numbers beyond
    a double, like PostgreSQL or stricter). Anything else goes to the careful judge, so the
    verdicts are the same and only the common case is fast.
    """
    pending: list[bytes] = []
    start = 0
    while chunk := stream.read(_CHUNK_BYTES):
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pending.append(chunk)  # a line longer than a chunk: keep reading
            continue
        pending.append(chunk[:cut])
        lines = b"".join(pending).split(b"\n")
        pending = [chunk[cut + 1 :]]
        yield _judge_lines(lines, start)
        start += len(lines)
    tail = b"".join(pending)
    if tail:
        yield _judge_lines([tail], start)


def _judge_lines(lines: list[bytes], start: int) -> Block:
    if start == 0 and lines[0].startswith(_BOM):
        lines[0] = lines[0][len(_BOM) :]
    records: list[tuple[int, bytes]] = []
    errors: list[StageRow] = []
    loads = orjson.loads
    number = start
    for raw in lines:
        number += 1
        line = raw.rstrip(b"\r")
        try:
            value = loads(line)
        except orjson.JSONDecodeError:
            value = None
        if type(value) is dict and b"\\u0000" not in line:
            records.append((number, line))
            continue
        row = classify_jsonl_line(number, line)
        if row is None:
            continue
        if row[1] is not None:
            records.append((number, line))
        else:
            errors.append(row)
    return records, errors


def blocks_of(rows: Iterator[StageRow], size: int = 4096) -> Iterator[Block]:
    """Stage rows (CSV) regrouped as blocks of (records, errors)."""
    records: list[tuple[int, bytes]] = []
    errors: list[StageRow] = []
    for row in rows:
        if row[1] is None:
            errors.append(row)
        else:
            records.append((row[0], row[1].encode()))
        if len(records) + len(errors) >= size:
            yield records, errors
            records, errors = [], []
    if records or errors:
        yield records, errors


class _LineTap:
    """Feeds csv.reader line by line and remembers the lines of the current record, so a bad
    record can be kept with its exact text and its first line number."""

    def __init__(self, text: io.TextIOBase) -> None:
        self._text = text
        self.lines_read = 0
        self.current: list[str] = []

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            self.lines_read += 1
            self.current.append(line)
            yield line


def read_csv(stream: io.BufferedIOBase, required: str | None = None) -> Iterator[StageRow]:
    """CSV rows as stage rows; a header that is unusable, or lacks the `required` column,
    raises :class:`FileFormatError` before any row."""
    buffer = cast(BinaryIO, stream)
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    tap = _LineTap(text)
    reader = csv.reader(tap)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise FileFormatError(f"CSV header cannot be parsed: {error}") from error
    _check_header(header)
    if required is not None and required not in header:
        raise FileFormatError(f"CSV header has no {required} column")
    while True:
        tap.current.clear()
        first_line = tap.lines_read + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield first_line, None, _raw_text(tap.current), f"CSV parse error: {error}"
            continue
        if not row:
            continue  # a blank line
        raw = "".join(tap.current)
        if len(row) != len(header):
            reason = f"expected {len(header)} fields, got {len(row)}"
            yield first_line, None, _raw_text(tap.current), reason
        elif _SURROGATES.search(raw):
            yield first_line, None, _raw_text(tap.current), "invalid UTF-8"
        elif "\x00" in raw:
            reason = "contains a NUL character, which PostgreSQL cannot store"
            yield first_line, None, _raw_text(tap.current), reason
        else:
            payload = json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False)
            yield first_line, payload, None, None


def _raw_text(lines: list[str]) -> str:
    text = "".join(lines)
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith(("\n", "\r")):
        text = text[:-1]
    restored = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _shown(restored)


def _check_header(header: list[str]) -> None:
    joined = ",".join(header)
    if _SURROGATES.search(joined) or "\x00" in joined:
        raise FileFormatError("CSV header is not valid UTF-8 text")
    blank = [i + 1 for i, name in enumerate(header) if not name.strip()]
    if blank:
        raise FileFormatError(f"CSV header has empty column names (columns {blank})")
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        raise FileFormatError(f"CSV header repeats column names: {', '.join(duplicates)}")


def lines_as_errors(stream: io.BufferedIOBase, reason: str) -> Iterator[Block]:
    """Every non-blank line of a file that cannot be read as a whole, kept with one reason."""
    errors: list[StageRow] = []
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            continue
        errors.append((number, None, _shown(line.decode("utf-8", "backslashreplace")), reason))
        if len(errors) >= 4096:
            yield [], errors
            errors = []
    if errors:
        yield [], errors
