"""Sample data for the benchmarks: generated once per size with `workbench sample-data`, reused.

Generation is deterministic (same seed and size give the same bytes), so a cached directory
is exactly what a fresh generation would write.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.context import BenchContext
from bench.proc import run_measured

SEED = 42


@dataclass(frozen=True)
class Dataset:
    directory: Path
    transactions: int

    @property
    def products_file(self) -> Path:
        return self.directory / "products.jsonl"

    @property
    def transaction_files(self) -> list[Path]:
        return sorted(self.directory.glob("transactions-*.jsonl"))

    def expected(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.directory / "expected.json").read_text())
        return loaded


def dataset(ctx: BenchContext, transactions: int) -> Dataset:
    directory = ctx.workdir / "data" / f"tx-{transactions}"
    done = directory / ".complete"
    if not done.exists():
        run_measured(
            [
                ctx.workbench,
                "sample-data",
                "--out",
                str(directory),
                "--transactions",
                str(transactions),
                "--seed",
                str(SEED),
                "--format",
                "jsonl",
            ],
            env=ctx.child_env(None, directory.parent),
            log=ctx.workdir / "logs" / "sample-data.log",
        )
        done.write_text("ok\n")
    return Dataset(directory, transactions)


def _is_clean_object(line: bytes) -> bool:
    """A line both `workbench ingest` and a bare jsonb COPY accept unchanged."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if "\\u0000" in text or "\x01" in text or "\x02" in text:
        return False
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _lines(files: list[Path]) -> Iterator[bytes]:
    for path in files:
        with path.open("rb") as handle:
            yield from handle


def clean_copy(ds: Dataset, out_dir: Path) -> tuple[list[Path], int]:
    """The parseable JSON-object lines of the dataset's transaction files, in the same chunks.

    Both sides of the ingest benchmark load these identical files: the floor (a bare jsonb
    COPY) would abort on the generator's deliberately unparseable lines.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / ".complete"
    files = [out_dir / p.name for p in ds.transaction_files]
    if marker.exists():
        return files, int(marker.read_text())
    total = 0
    for source, target in zip(ds.transaction_files, files, strict=True):
        with source.open("rb") as src, target.open("wb") as dst:
            for line in src:
                if line.strip() and _is_clean_object(line):
                    dst.write(line if line.endswith(b"\n") else line + b"\n")
                    total += 1
    marker.write_text(str(total))
    return files, total


def increment_file(
    ds: Dataset, out: Path, share: float, tag: str, unknown_products: bool = False
) -> int:
    """`share` of the dataset's records again, each with a new transaction_id (prefix `tag`).

    They keep their defects: a realistic new batch has the same mix of good and bad records.
    With `unknown_products`, every product_id gets the prefix too: sales that land before their
    product, which silver keeps as pending rejections (judged again on every run).
    """
    wanted = max(1, math.ceil(ds.transactions * share))
    written = 0
    with out.open("w") as dst:
        for raw in _lines(ds.transaction_files):
            if written >= wanted:
                break
            if not _is_clean_object(raw):
                continue
            record = json.loads(raw)
            record["transaction_id"] = f"{tag}-{written:08d}"
            if unknown_products and isinstance(record.get("product_id"), str):
                record["product_id"] = f"{tag}-{record['product_id']}"
            dst.write(json.dumps(record) + "\n")
            written += 1
    return written
