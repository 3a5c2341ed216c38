"""One record to one line of JSON Lines or CSV. Missing keys become empty CSV fields."""

from __future__ import annotations

import json
from collections.abc import Sequence

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def jsonl_line(record: object) -> str:
    return _JSON.encode(record) + "\n"


def csv_text(value: object) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_line(values: Sequence[str]) -> str:
    return ",".join(_csv_field(v) for v in values) + "\n"


def csv_record_line(record: dict[str, object], fields: Sequence[str]) -> str:
    return csv_line([csv_text(record.get(field)) for field in fields])


def _csv_field(value: str) -> str:
    if '"' in value or "," in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value
