"""The container engine that `make image` uses (scripts/container-engine.sh): build and run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Passed whenever it exists: the machine's roots (a TLS-intercepting proxy's among them) work for
# a build behind a proxy and without one.
MACHINE_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Engine:
    command: list[str]  # e.g. ["podman", "--runtime", "runc"]
    flags: list[str]  # for build and run, e.g. podman's --ulimit pair

    @classmethod
    def detect(cls) -> Engine:
        done = subprocess.run(
            ["bash", str(REPO / "scripts" / "container-engine.sh")],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        lines = [*done.stdout.splitlines(), ""]
        return cls(lines[0].split(), lines[1].split())

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            timeout=timeout,
        )

    def build(self, ref: str, build_args: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
        """`make image`'s own script, so the test builds exactly what a user builds."""
        env = dict(os.environ)
        if "CA_BUNDLE" not in env and MACHINE_CA_BUNDLE.exists():
            env["CA_BUNDLE"] = str(MACHINE_CA_BUNDLE)
        flags = [f for key, value in build_args.items() for f in ("--build-arg", f"{key}={value}")]
        return subprocess.run(
            ["bash", str(REPO / "scripts" / "image-build.sh"), ref, *flags],
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
        )

    def run_flags(self, subcommand: str) -> list[str]:
        return [subcommand, *self.flags]


def run_container(
    engine: Engine,
    run_args: Sequence[str],
    env: Mapping[str, str],
    *,
    detach: bool = False,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    extra = ["--detach"] if detach else []
    return engine(*engine.run_flags("run"), *extra, *run_args, env=env, timeout=timeout)
