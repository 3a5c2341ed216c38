"""Run a command on a pseudo-terminal, as in a person's shell, and read everything it printed."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class TerminalRun:
    exit_code: int
    raw: bytes

    def lines(self) -> list[str]:
        """What stays on the screen: carriage-return redraws (a progress bar) keep only their
        last state, colour codes are dropped."""
        text = _ANSI.sub(b"", self.raw).decode(errors="replace").replace("\r\n", "\n")
        return [line.rsplit("\r", 1)[-1] for line in text.split("\n")[:-1]]


def run_on_terminal(
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout: float,
    cwd: str | None = None,
    columns: int = 160,
) -> TerminalRun:
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and stderr are the terminal
        if cwd:
            os.chdir(cwd)
        os.execve(argv[0], list(argv), dict(env))  # noqa: S606 - an argv list, no shell
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output.extend(chunk)
        else:
            os.kill(pid, 9)
            raise TimeoutError(f"{argv} did not finish in {timeout} s:\n{output.decode()[-2000:]}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return TerminalRun(os.waitstatus_to_exitcode(status), bytes(output))
