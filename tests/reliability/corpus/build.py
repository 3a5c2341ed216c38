"""The hostile record corpus: what producers may really send, and where each record must end up.

`python -m tests.reliability.corpus.build` (re)writes, beside this file:
- `hostile_transactions.jsonl`: one record per line, raw bytes (invalid JSON, latin-1 bytes,
  BOMs, NaN, NUL escapes, huge and deeply nested fields, SQL and Jinja text, emoji, ...);
- `hostile_products.jsonl`: the small catalogue those transactions refer to;
- `hostile_expected.json`: the sidecar, one entry per transaction line (1-based `line`):
  `outcome` is where the record must be after ingest and a full run —
  `silver` (silver_validated_transactions), `rejected` (silver_rejected_transactions, with
  `reason` the primary rejection_reason and `also` further reasons it must carry),
  `superseded` (a valid but older version of a transaction in silver), `ingest_error`
  (raw.ingest_errors, never in bronze), or `skipped` (a blank line: not a record at all).
  `outcomes` lists the accepted places where the common contract leaves the choice open; the
  invariant (exactly one place, nothing lost) never is.
  `preserve` names fields whose text must reach silver byte-for-byte.

The files are committed; a test checks they equal what this module writes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent
TRANSACTIONS_FILE = CORPUS_DIR / "hostile_transactions.jsonl"
PRODUCTS_FILE = CORPUS_DIR / "hostile_products.jsonl"
EXPECTED_FILE = CORPUS_DIR / "hostile_expected.json"

PRODUCTS = [
    {
        "product_id": "HP-001",
        "product_name": "Cola 1.5L",
        "brand": "Fizz",
        "category": "Beverages",
        "unit_price": "25.50",
        "is_active": True,
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "HP-002",
        "product_name": "Potato Chips",
        "brand": "Crunch",
        "category": "Snacks",
        "unit_price": "10.00",
        "is_active": True,
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "HP-003",
        "product_name": "Beef Noodles",
        "brand": "Mami",
        "category": "Instant Noodles",
        "unit_price": "3.33",
        "is_active": True,
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "HP-004",
        "product_name": "Shampoo 🧴 Sachet",
        "brand": "Glow",
        "category": "Personal Care",
        "unit_price": "7.00",
        "is_active": True,
        "updated_at": "2024-01-01T00:00:00Z",
    },
]

SQL_TEXT = "S-9'; DROP TABLE silver.silver_validated_transactions; --"
JINJA_TEXT = "{{ run_query('drop schema silver cascade') }}{% raw %}{# x #}"
EMOJI_TEXT = "🛒👩🏽‍💻 Ñandú \u200b⚡"
LINE_SEPARATORS_TEXT = "C-\u2028x\u0085y\u000bz"
QUOTE_ID = "HX-quote'\"\\);DELETE FROM raw.transactions;--"


@dataclass
class Case:
    note: str
    outcome: str | None = None
    reason: str | None = None
    also: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    preserve: dict[str, str] = field(default_factory=dict)
    line: bytes = b""


def _valid(tid: str, **changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "transaction_id": tid,
        "transaction_date": "2024-05-06",
        "store_id": "S-001",
        "product_id": "HP-001",
        "basket_id": f"B-{tid}",
        "category": "Beverages",
        "quantity": 2,
        "unit_price": "25.50",
        "amount": "51.00",
        "payment_method": "cash",
        "status": "completed",
        "customer_id": "C-001",
        "updated_at": "2024-05-06T10:00:00Z",
    }
    for key, value in changes.items():
        if value is _DROP:
            record.pop(key, None)
        else:
            record[key] = value
    return record


_DROP = object()


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def _silver(note: str, record: dict[str, Any], **preserve: str) -> Case:
    return Case(note, "silver", preserve=dict(preserve), line=_line(record))


def _rejected(note: str, reason: str, record: dict[str, Any], *also: str) -> Case:
    return Case(note, "rejected", reason=reason, also=list(also), line=_line(record))


def _error(note: str, line: bytes) -> Case:
    return Case(note, "ingest_error", line=line if line.endswith(b"\n") else line + b"\n")


def cases() -> list[Case]:
    rng = random.Random(5)  # noqa: S311 - reproducible filler text, not secrets
    huge_text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(300_000))
    # json.dumps cannot write 5000 levels (it recurses); the text is simple enough to spell out.
    deep_line = (
        _line(_valid("HX-E09")).rstrip(b"}\n")
        + b', "extra": '
        + b"[" * 5000
        + b"1"
        + b"]" * 5000
        + b"}\n"
    )
    bom_first = b"\xef\xbb\xbf" + _line(_valid("HX-bom-first"))
    out: list[Case] = [
        # --- the first line starts with a UTF-8 BOM (Windows exports) ---------------------------
        # docs/data.md: a BOM at the start of a file is an encoding marker and is dropped.
        Case("UTF-8 BOM before the first record", "silver", line=bom_first),
        # --- valid, however messy -------------------------------------------------------------
        _silver("plain valid record", _valid("HX-001")),
        _silver(
            "numbers as strings with whitespace",
            _valid(
                "HX-002",
                quantity=" 3 ",
                unit_price="10.00",
                amount=" 30.00 ",
                product_id="HP-002",
                category="Snacks",
            ),
        ),
        _silver("numbers as JSON numbers", _valid("HX-003", unit_price=25.5, amount=51)),
        _silver(
            "enums in other casing and whitespace",
            _valid("HX-004", payment_method="GCash ", status=" COMPLETED"),
        ),
        _silver(
            "renamed category variant",
            _valid(
                "HX-005", category="  chips ", product_id="HP-002", unit_price="10", amount="20"
            ),
        ),
        _silver(
            "category in other casing",
            _valid(
                "HX-006",
                category="instant NOODLES",
                product_id="HP-003",
                quantity=3,
                unit_price="3.33",
                amount="10.00",
            ),
        ),
        _silver("SQL fragment in store_id", _valid("HX-007", store_id=SQL_TEXT), store_id=SQL_TEXT),
        _silver(
            "Jinja-looking text in basket_id",
            _valid("HX-008", basket_id=JINJA_TEXT),
            basket_id=JINJA_TEXT,
        ),
        _silver(
            "emoji and zero-width space in customer_id",
            _valid("HX-009", customer_id=EMOJI_TEXT),
            customer_id=EMOJI_TEXT,
        ),
        _silver(
            "quotes, backslash and SQL in transaction_id", _valid(QUOTE_ID), transaction_id=QUOTE_ID
        ),
        _silver("a 300 kB field the contract does not know", _valid("HX-011", notes=huge_text)),
        _rejected(
            "date in year 0001 (before the earliest business date)",
            "before_earliest_date",
            _valid("HX-012", transaction_date="0001-01-01"),
        ),
        _silver(
            "status refunded, no customer_id, no updated_at",
            _valid("HX-013", status="refunded", customer_id=_DROP, updated_at=_DROP),
        ),
        _silver(
            "duplicate keys in one object: the last one counts", {"transaction_id": "HX-014"}
        ),  # replaced below with a raw line
        _silver("JSON unicode escapes", _valid("HX-015", store_id="S-\u00d1")),
        # --- rejected, one primary reason each -------------------------------------------------
        _rejected(
            "transaction_id missing", "missing_transaction_id", _valid("x", transaction_id=_DROP)
        ),
        _rejected("transaction_id empty", "missing_transaction_id", _valid("")),
        _rejected("transaction_id blank", "missing_transaction_id", _valid("   ")),
        _rejected(
            "transaction_id null", "missing_transaction_id", _valid("x", transaction_id=None)
        ),
        _rejected("quantity as a word", "invalid_type", _valid("HX-R05", quantity="two")),
        _rejected("amount not a number", "invalid_type", _valid("HX-R06", amount="abc")),
        _rejected(
            "date in day/month/year",
            "invalid_type",
            _valid("HX-R07", transaction_date="31/12/2024"),
        ),
        _rejected(
            "date that does not exist",
            "invalid_type",
            _valid("HX-R08", transaction_date="2024-02-30"),
        ),
        _rejected("month 13", "invalid_type", _valid("HX-R09", transaction_date="2024-13-01")),
        _rejected(
            "nested array where a number belongs", "invalid_type", _valid("HX-R10", quantity=[2])
        ),
        _rejected(
            "object where a number belongs",
            "invalid_type",
            _valid("HX-R11", amount={"value": "51.00"}),
        ),
        _rejected('amount "NaN" as a string', "invalid_type", _valid("HX-R12", amount="NaN")),
        _rejected(
            'unit_price "Infinity" as a string',
            "invalid_type",
            _valid("HX-R13", unit_price="Infinity"),
        ),
        _rejected(
            "quantity beyond integer range",
            "invalid_type",
            _valid("HX-R14", quantity=99999999999999999999),
        ),
        _rejected("quantity with a fraction", "invalid_type", _valid("HX-R15", quantity="2.5")),
        _rejected(
            "updated_at not a timestamp", "invalid_type", _valid("HX-R16", updated_at="yesterday")
        ),
        _rejected(
            "two defects: quantity word and unknown payment",
            "invalid_type",
            _valid("HX-R17", quantity="two", payment_method="bitcoin"),
            "invalid_enum",
        ),
        _rejected("store_id missing", "missing_required_field", _valid("HX-R18", store_id=_DROP)),
        _rejected(
            "payment_method empty", "missing_required_field", _valid("HX-R19", payment_method="")
        ),
        _rejected("basket_id null", "missing_required_field", _valid("HX-R20", basket_id=None)),
        _rejected("amount blank", "missing_required_field", _valid("HX-R21", amount="   ")),
        _rejected(
            "payment method unknown", "invalid_enum", _valid("HX-R22", payment_method="bitcoin")
        ),
        _rejected("status unknown", "invalid_enum", _valid("HX-R23", status="pending")),
        _rejected("category unknown", "unknown_category", _valid("HX-R24", category="Electronics")),
        _rejected("category null", "unknown_category", _valid("HX-R25", category=None)),
        _rejected(
            "negative quantity and amount",
            "non_positive_amount",
            _valid("HX-R26", quantity=-2, amount="-51.00"),
        ),
        _rejected(
            "zero quantity and amount",
            "non_positive_amount",
            _valid("HX-R27", quantity=0, amount="0"),
        ),
        _rejected(
            "transaction date far in the future",
            "future_date",
            _valid("HX-R28", transaction_date="2999-12-31"),
        ),
        _rejected(
            "future date and unknown product",
            "future_date",
            _valid("HX-R29", transaction_date="2999-12-31", product_id="HP-404"),
            "unknown_product",
        ),
        _rejected(
            "product not in the catalogue", "unknown_product", _valid("HX-R30", product_id="HP-999")
        ),
        _rejected(
            "amount differs from quantity x unit_price",
            "amount_mismatch",
            _valid("HX-R31", amount="60.00"),
        ),
        _rejected("amount 1e400", "invalid_type", _valid("HX-R32", amount=10**400)),
        # --- lines that are not JSON objects PostgreSQL can store --------------------------------
        _error("truncated line", b'{"transaction_id": "HX-E01", "amount": '),
        _error("not JSON at all", b"this is not json, just text"),
        _error(
            "latin-1 bytes (not UTF-8)",
            b'{"transaction_id": "HX-E03", "store_id": "Caf\xe9 Ni\xf1o"}',
        ),
        _error("NaN literal", b'{"transaction_id": "HX-E04", "amount": NaN}'),
        _error("Infinity literal", b'{"transaction_id": "HX-E05", "unit_price": Infinity}'),
        _error("NUL escape in a string", b'{"transaction_id": "HX-E06", "store_id": "S\\u0000"}'),
        _error("lone UTF-16 surrogate", b'{"transaction_id": "HX-E07", "store_id": "S\\ud800"}'),
        _error("trailing garbage after the object", b'{"transaction_id": "HX-E08"} trailing'),
        _error(
            "a 200 kB line never closed (kept as its first 64 KiB, its length and sha256)",
            b'{"transaction_id": "HX-E15", "notes": "' + huge_text[:200_000].encode(),
        ),
        # Python's JSON parser stops at ~1000 levels; the line is kept with the reason.
        Case("a field nested 5000 levels deep", "ingest_error", line=deep_line),
        Case(
            "a JSON array instead of an object",
            "ingest_error",
            line=b"[1, 2, 3]\n",
        ),
        Case(
            "a JSON string instead of an object",
            "ingest_error",
            line=b'"HX-E11"\n',
        ),
        Case(
            "JSON null",
            "ingest_error",
            line=b"null\n",
        ),
        Case(
            "UTF-8 BOM in the middle of the file",
            "ingest_error",
            line=b"\xef\xbb\xbf" + _line(_valid("HX-E13")),
        ),
        _silver("CRLF line ending", _valid("HX-017")),
        _silver(
            "raw U+2028, U+0085 and U+000B inside a string (not line breaks in JSON Lines)",
            _valid("HX-018", customer_id=LINE_SEPARATORS_TEXT),
            customer_id=LINE_SEPARATORS_TEXT,
        ),
        Case("a line of whitespace only", "skipped", line=b"   \n"),
        # --- several versions of one transaction ------------------------------------------------
        _silver(
            "newer version listed first",
            _valid("HX-D1", updated_at="2024-05-07T00:00:00Z", quantity=3, amount="76.50"),
        ),
        Case(
            "older version listed second (conflicting values)",
            "superseded",
            line=_line(_valid("HX-D1", updated_at="2024-05-06T00:00:00Z", amount="51.00")),
        ),
        Case(
            "version without updated_at counts as oldest",
            "superseded",
            line=_line(_valid("HX-D2", updated_at=_DROP, store_id="S-old")),
        ),
        _silver(
            "version with updated_at wins", _valid("HX-D2", store_id="S-new"), store_id="S-new"
        ),
        _silver(
            "valid older version wins over an invalid newer one",
            _valid("HX-D3", updated_at="2024-05-01T00:00:00Z"),
        ),
        _rejected(
            "invalid newer version is rejected, never the winner",
            "non_positive_amount",
            _valid(
                "HX-D3",
                updated_at="2024-06-01T00:00:00Z",
                amount="-1.00",
                quantity=-1,
                unit_price="1.00",
            ),
        ),
        Case(
            "exact duplicate line, first copy",
            outcomes=["silver", "superseded"],
            line=_line(_valid("HX-D4")),
        ),
        Case(
            "exact duplicate line, second copy",
            outcomes=["silver", "superseded"],
            line=_line(_valid("HX-D4")),
        ),
    ]
    for case in out:
        if case.note.startswith("duplicate keys"):
            base = _line(_valid("HX-014", status="voided"))
            case.line = base.rstrip(b"}\n") + b', "status": "completed"}\n'
        if case.note == "CRLF line ending":
            case.line = case.line.rstrip(b"\n") + b"\r\n"
    # The file ends without a newline: a producer that never finished its last line.
    last = Case("last line without a newline", "silver", line=_line(_valid("HX-LAST"))[:-1])
    out.append(last)
    return out


def oversized_identifier_line() -> bytes:
    """A valid record whose store_id is 9 kB of incompressible text (an indexed column); kept
    apart from the corpus so the test that holds it names the one thing it proves."""
    rng = random.Random(9)  # noqa: S311 - reproducible filler text, not secrets
    store = "S-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9000))
    return _line(_valid("HX-016", store_id=store))


def expected_entries(all_cases: list[Case]) -> list[dict[str, Any]]:
    entries = []
    for number, case in enumerate(all_cases, start=1):
        outcomes = case.outcomes or [case.outcome or ""]
        entry: dict[str, Any] = {"line": number, "note": case.note, "outcomes": outcomes}
        if case.reason:
            entry["reason"] = case.reason
        if case.also:
            entry["also"] = case.also
        if case.preserve:
            entry["preserve"] = case.preserve
        entries.append(entry)
    return entries


def render() -> dict[Path, bytes]:
    all_cases = cases()
    expected = {
        "description": "outcome per line of hostile_transactions.jsonl; see build.py",
        "records": expected_entries(all_cases),
    }
    return {
        TRANSACTIONS_FILE: b"".join(case.line for case in all_cases),
        PRODUCTS_FILE: b"".join(_line(p) for p in PRODUCTS),
        EXPECTED_FILE: (json.dumps(expected, indent=1, ensure_ascii=False) + "\n").encode(),
    }


def main() -> None:
    for path, content in render().items():
        path.write_bytes(content)
        print(f"wrote {path} ({len(content):,} bytes)")


if __name__ == "__main__":
    main()
