"""Which log format a process writes: JSON lines for machines, short console lines for people.

Chosen once per command, in this order: ``--log-format``, then ``WORKBENCH_LOG_FORMAT``, then
the command's default. ``auto`` means JSON unless stderr is a terminal outside Kubernetes, so a
pod's log stream is JSON whether or not the container has a TTY.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Literal, TextIO

LogFormat = Literal["json", "console"]
LOG_FORMAT_ENV = "WORKBENCH_LOG_FORMAT"
LOG_FORMAT_CHOICES = ("auto", "json", "console")
# Set in every pod by the kubelet.
_IN_KUBERNETES_ENV = "KUBERNETES_SERVICE_HOST"


_AUTO_HELP = "auto: console on a terminal, json when piped or in a pod"


def add_log_format_argument(parser: argparse.ArgumentParser, default: str = "auto") -> None:
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMAT_CHOICES,
        default=None,
        help=f"json lines or console lines (env {LOG_FORMAT_ENV}; default "
        f"{_AUTO_HELP if default == 'auto' else default})",
    )


def resolve_log_format(
    requested: str | None, env: Mapping[str, str], stream: TextIO, *, default: str = "auto"
) -> LogFormat:
    choice = requested or env.get(LOG_FORMAT_ENV) or default
    if choice not in LOG_FORMAT_CHOICES:
        raise ValueError(
            f"{LOG_FORMAT_ENV} must be one of {', '.join(LOG_FORMAT_CHOICES)}; got {choice!r}"
        )
    if choice == "auto":
        return "console" if stream.isatty() and not env.get(_IN_KUBERNETES_ENV) else "json"
    return "json" if choice == "json" else "console"
