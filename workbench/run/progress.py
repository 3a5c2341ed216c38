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
from dataclasses import dataclass
from pathlib import Path

import structlog

PROGRESS_FILE_ENV = "ARGO_PROGRESS_FILE"

log = structlog.get_logger("workbench.run")


def progress_line(done: int, total: int) -> str | None:
    """The line Argo parses, or None when there is nothing Argo would accept (total 0)."""
    if total <= 0:
        return None
    return f"{min(max(done, 0), total)}/{total}\n"


@dataclass
class NodeTally:
    """done/total over the nodes of one dbt build, as the bar and the progress file show them.

    `expected` is what the build will execute (node_count.py, or dbt's ConcurrencyLine when
    that could not be counted). The total shown is never below the nodes started or finished, so
    done never exceeds it, and while a node runs started > done, so done == total only once
    every started node has finished. Hooks are not nodes: callers never report them here.
    """

    expected: int = 0
    started: int = 0
    done: int = 0

    @property
    def total(self) -> int:
        return max(self.expected, self.started, self.done)

    def reset(self, expected: int) -> None:
        self.expected, self.started, self.done = expected, 0, 0

    def node_started(self) -> bool:
        """Count a node dbt started; True when that raised the total."""
        before = self.total
        self.started += 1
        return self.total != before

    def node_finished(self) -> None:
        self.done += 1


class ProgressFile:
    """Appends a line per change of done/total; dbt calls back from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tally = NodeTally()
        self._lock = threading.Lock()
        self._broken = False

    @property
    def total(self) -> int:
        return self.tally.total

    @property
    def done(self) -> int:
        return self.tally.done

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProgressFile | None:
        env = os.environ if env is None else env
        path = env.get(PROGRESS_FILE_ENV, "").strip()
        return cls(Path(path)) if path else None

    def start(self, total: int) -> None:
        """The build is about to execute `total` nodes (see NodeTally)."""
        with self._lock:
            self.tally.reset(total)
            self._write()

    def node_started(self) -> None:
        with self._lock:
            if self.tally.node_started():
                self._write()

    def node_finished(self) -> None:
        with self._lock:
            self.tally.node_finished()
            self._write()

    def _write(self) -> None:
        line = progress_line(self.tally.done, self.tally.total)
        if line is None or self._broken:
            return
        try:
            with self.path.open("a", encoding="ascii") as handle:
                handle.write(line)
        except OSError as exc:  # progress is a courtesy: never fail a run over it
            self._broken = True
            log.warning("progress_write_failed", path=str(self.path), error=str(exc))
