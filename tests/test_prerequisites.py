"""scripts/check-prereqs: the first step of `make test` names every missing package at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import prerequisites

CHECK = prerequisites.REPO_ROOT / "scripts" / "check-prereqs"


def _path_without(tmp_path: Path, *left_out: str) -> str:
    """A PATH holding only what the check and the found prerequisites need, minus ``left_out``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wanted = {"dirname"}
    for prerequisite in prerequisites.PREREQUISITES:
        found = prerequisite.find()
        if found and prerequisite.debian != "postgresql-15":  # found by directory, not PATH
            wanted.add(Path(found).name)
    for name in wanted - set(left_out):
        found = shutil.which(name)
        assert found, f"{name} must be installed here for this test"
        (bindir / name).symlink_to(found)
    return str(bindir)


def _check(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "PYTHON": sys.executable}
    return subprocess.run(
        ["/bin/bash", str(CHECK), *args],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip


def test_everything_installed_passes(tmp_path: Path) -> None:
    done = _check(_path_without(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("prerequisites for test: all ")


def test_a_missing_prometheus_fails_at_once_with_the_apt_get_line(tmp_path: Path) -> None:
    done = _check(_path_without(tmp_path, "prometheus", "promtool", "prometheus-pushgateway"))
    assert done.returncode == 1
    assert "  prometheus: scrape tests" in done.stderr
    assert "  promtool: alert rule checks" in done.stderr
    assert "apt-get install prometheus prometheus-pushgateway\n" in done.stderr
    assert "npm" not in done.stderr.split("install them with")[0]  # only what is missing


def test_packages_are_named_once_per_install_line(tmp_path: Path) -> None:
    done = _check(_path_without(tmp_path, "npm", "node", "promtool"))
    assert done.returncode == 1
    assert "apt-get install npm prometheus\n" in done.stderr


def test_ci_gets_the_debian_packages_to_install(tmp_path: Path) -> None:
    """.ci/run installs what the check finds missing for both of its targets, one package per
    line; the container engine is the image test's, not `make test`'s."""
    path = _path_without(tmp_path, "prometheus", "promtool", "unzip", "mmdebstrap")
    done = _check(path, "--for", "test", "--for", "image-test", "--debian-packages")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["mmdebstrap", "prometheus", "unzip"]
    ci = (CHECK.parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/check-prereqs --for test --for image-test --debian-packages" in ci


def test_make_test_does_not_need_the_container_engine(tmp_path: Path) -> None:
    path = _path_without(tmp_path, "podman", "runc", "mmdebstrap", "docker")
    assert _check(path).returncode == 0
    done = _check(path, "--for", "image-test")
    assert done.returncode == 1
    assert "apt-get install mmdebstrap podman runc\n" in done.stderr
    assert "prometheus" not in done.stderr


def test_a_test_file_decides_whether_chromium_is_needed(tmp_path: Path) -> None:
    (chromium,) = [p for p in prerequisites.PREREQUISITES if p.name == "chromium"]
    assert not chromium.needed({"test"}, tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "browser.py").touch()
    assert chromium.needed({"test"}, tmp_path)
    assert not chromium.needed({"image-test"}, tmp_path)


def test_require_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"prometheus-pushgateway is missing .*apt-get install"):
        prerequisites.require("prometheus-pushgateway")
    with pytest.raises(KeyError):
        prerequisites.require("a-binary-nobody-listed")
