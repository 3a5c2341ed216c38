"""Rows in PostgreSQL's binary COPY format, built straight from the bytes of each record.

Binary COPY spares the server the CSV/text scan of every line: the payload travels as jsonb's
wire form (a version byte, then the JSON text), which PostgreSQL parses exactly as jsonb_in
would. Text fields are UTF-8; integers are big-endian int8.

    https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.4
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

from workbench.contract import INGEST_ERROR_TEXT_MAX_BYTES
from workbench.ingest.readers import StageRow

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # signature, flags, extension
TRAILER = b"\xff\xff"

# The column order every record row is encoded in; COPY statements list them the same way.
RECORD_COLUMNS = ("source", "source_file", "batch_id", "source_row", "payload_sha256", "payload")
ERROR_COLUMNS = ("source_row", "raw_text", "reason")

_INT8_FIELD = struct.Struct(">iq")
_SHA_AND_PAYLOAD_HEAD = struct.Struct(">i64siB")  # sha length, hex sha, payload length, jsonb v1
_FIELD_COUNT = struct.Struct(">h")
_LENGTH = struct.Struct(">i")
_NULL = _LENGTH.pack(-1)


def _text(value: str) -> bytes:
    data = value.encode("utf-8", "backslashreplace")
    return _LENGTH.pack(len(data)) + data


class RecordEncoder:
    """Encodes (source_row, payload bytes) records of one file into binary COPY rows."""

    def __init__(self, *, source: str, source_file: str, batch_id: str) -> None:
        self._row_prefix = (
            _FIELD_COUNT.pack(len(RECORD_COLUMNS))
            + _text(source)
            + _text(source_file)
            + _text(batch_id)
        )

    def encode(self, records: Sequence[tuple[int, bytes]]) -> bytes:
        """payload_sha256 is the hex SHA-256 of each record's bytes as landed."""
        prefix = self._row_prefix
        int8 = _INT8_FIELD.pack
        head = _SHA_AND_PAYLOAD_HEAD.pack
        sha256 = hashlib.sha256
        parts: list[bytes] = []
        append = parts.append
        for source_row, payload in records:
            append(prefix)
            append(int8(8, source_row))
            append(head(64, sha256(payload).hexdigest().encode(), len(payload) + 1, 1))
            append(payload)
        return b"".join(parts)


def encode_errors(rows: Sequence[StageRow]) -> bytes:
    """Ingest-error rows (source_row, raw_text, reason) as binary COPY rows; a text longer than
    INGEST_ERROR_TEXT_MAX_BYTES is cut there, its full length and SHA-256 added to the reason."""
    parts: list[bytes] = []
    for source_row, _payload, raw_text, reason in rows:
        parts.append(_FIELD_COUNT.pack(len(ERROR_COLUMNS)))
        parts.append(_INT8_FIELD.pack(8, source_row))
        if raw_text is None:
            parts.append(_NULL)
        else:
            text, reason = _bounded(raw_text, reason)
            parts.append(_LENGTH.pack(len(text)) + text)
        parts.append(_NULL if reason is None else _text(reason))
    return b"".join(parts)


def _bounded(raw_text: str, reason: str | None) -> tuple[bytes, str | None]:
    data = raw_text.encode("utf-8", "backslashreplace")
    if len(data) <= INGEST_ERROR_TEXT_MAX_BYTES:
        return data, reason
    # Cut on a character boundary: a UTF-8 continuation byte is 0b10xxxxxx.
    cut = INGEST_ERROR_TEXT_MAX_BYTES
    while data[cut] & 0xC0 == 0x80:
        cut -= 1
    digest = hashlib.sha256(data).hexdigest()
    note = f"line of {len(data)} bytes (sha256 {digest}), first {cut} bytes kept"
    return data[:cut], f"{reason}; {note}" if reason else note
