"""Chunked, streaming file output: at most `chunk_rows` records per file, bytes as given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from workbench.sample_data.formats import csv_line


class ChunkedWriter:
    """Writes lines (str, or bytes for deliberately undecodable ones) into numbered files.

    `name_for(n)` names file n (1-based). CSV files each start with the header line, which does
    not count as a record.
    """

    def __init__(
        self,
        directory: Path,
        name_for: Callable[[int], str],
        chunk_rows: int,
        csv_header: Sequence[str] | None = None,
    ) -> None:
        self._directory = directory
        self._name_for = name_for
        self._chunk_rows = chunk_rows
        self._header = csv_line(csv_header).encode() if csv_header is not None else b""
        self._handle: BinaryIO | None = None
        self._in_file = 0
        self.files: list[Path] = []
        self.records = 0

    def write_lines(self, lines: list[str]) -> None:
        """Text lines (each ending in a newline), split across files at `chunk_rows`."""
        done = 0
        while done < len(lines):
            handle = self._room()
            part = lines[done : done + self._chunk_rows - self._in_file]
            handle.write("".join(part).encode("utf-8"))
            self._in_file += len(part)
            self.records += len(part)
            done += len(part)

    def write_bytes(self, line: bytes) -> None:
        """One line written byte for byte (used for deliberately undecodable lines)."""
        self._room().write(line)
        self._in_file += 1
        self.records += 1

    def _room(self) -> BinaryIO:
        if self._handle is None or self._in_file >= self._chunk_rows:
            self._next_file()
        assert self._handle is not None
        return self._handle

    def close(self) -> None:
        self._close_file()

    def _next_file(self) -> None:
        self._close_file()
        path = self._directory / self._name_for(len(self.files) + 1)
        self._handle = path.open("wb", buffering=1 << 20)
        self._handle.write(self._header)
        self.files.append(path)
        self._in_file = 0

    def _close_file(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> ChunkedWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
