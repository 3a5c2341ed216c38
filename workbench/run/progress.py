"""Argo's self-reported progress: "done/total" lines in the file named by ARGO_PROGRESS_FILE.

The Argo executor watches that file and reports its last line as the node's progress, which
the Argo UI shows while the pod runs. A line is valid when 0 <= done <= total and total > 0;
an invalid one is logged by the executor and ignored. The controller sets the variable only
when progress reporting is enabled; without it (a laptop) nothing is written.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path

import structlog

PROGRESS_FILE_ENV = "ARGO_PROGRESS_FILE"

log = structlog.get_logger("workbench.run")


def progress_line(done: int, total: int) -> str | None:
    """The line Argo parses, or None when there is nothing Argo would accept (total 0)."""
    if total <= 0:
        return None
    return f"{min(max(done, 0), total)}/{total}\n"


class ProgressFile:
    """Appends one line per finished dbt node; dbt calls back from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()
        self._broken = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProgressFile | None:
        env = os.environ if env is None else env
        path = env.get(PROGRESS_FILE_ENV, "").strip()
        return cls(Path(path)) if path else None

    def start(self, total: int) -> None:
        """dbt knows how many nodes it will execute (its ConcurrencyLine event)."""
        with self._lock:
            self.total, self.done = total, 0
            self._write()

    def node_finished(self) -> None:
        with self._lock:
            self.done += 1
            self._write()

    def _write(self) -> None:
        line = progress_line(self.done, self.total)
        if line is None or self._broken:
            return
        try:
            with self.path.open("a", encoding="ascii") as handle:
                handle.write(line)
        except OSError as exc:  # progress is a courtesy: never fail a run over it
            self._broken = True
            log.warning("progress_write_failed", path=str(self.path), error=str(exc))
