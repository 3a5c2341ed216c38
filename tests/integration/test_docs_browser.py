"""The dbt docs as a person's browser shows them: `workbench docs --serve` over HTTP and the
single-file static page opened from disk, both rendered by headless Chromium after the page's
JavaScript ran.

`index.html` opened from file:// never renders: its scripts fetch manifest.json and
catalog.json, which Chromium refuses for file:// pages, so the page waits forever (that is why
the demo points at static_index.html and why `--serve` exists).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import rendered_dom, screenshot
from tests.pgcluster import PostgresCluster, temporary_database
from workbench import cli
from workbench.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

_WORKBENCH = (sys.executable, "-m", "workbench.cli")
MODELS = sorted(path.stem for path in (PROJECT_ROOT / "dbt" / "models").rglob("*.sql"))


@pytest.fixture(scope="module")
def docs_dir(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's docs generated once against an empty database (the tree needs no data)."""
    target = tmp_path_factory.mktemp("docs-target")
    with temporary_database(pg_cluster, "docs") as env, pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setenv("DBT_LOG_PATH", str(tmp_path_factory.mktemp("docs-logs")))
        patch.delenv("DBT_PARTIAL_PARSE_FILE_PATH", raising=False)
        assert cli.main(["docs", "--target-path", str(target)]) == 0
    return target


def _tree_entries(dom: str) -> set[str]:
    """Models the rendered navigation tree lists (attributes Angular writes while rendering)."""
    return {name for name in MODELS if f'data-nav-unique-id="model.scout_retail.{name}"' in dom}


def _assert_page_drawn(url: str, out: Path) -> None:
    image = screenshot(url, out)
    # The left navigation (Sources / Exposures / Projects) and the overview text are drawn.
    assert image.dark_pixels(0, 200, 300, 500) > 300, "the navigation column is empty"
    assert image.dark_pixels(330, 120, 1230, 880) > 5000, "the page body is blank"


@pytest.fixture()
def served(docs_dir: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*_WORKBENCH, "docs", "--serve", "--port", "0", "--target-path", str(docs_dir)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WORKBENCH_LOG_FORMAT": "json"},
    )
    try:
        assert process.stderr is not None
        ready = json.loads(process.stderr.readline())
        assert ready["event"] == "docs_serving"
        yield process, str(ready["url"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_served_docs_render_the_model_tree(
    served: tuple[subprocess.Popen[str], str], tmp_path: Path
) -> None:
    process, url = served
    assert url.startswith("http://127.0.0.1:")

    assert _tree_entries(rendered_dom(url)) == set(MODELS)
    _assert_page_drawn(url, tmp_path / "served.png")

    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=30) == 0  # generous: a loaded 2-core machine
    assert process.stderr is not None
    assert [json.loads(line)["event"] for line in process.stderr] == ["docs_serve_stopped"]
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port))):
        pass


def test_the_static_page_renders_from_disk(docs_dir: Path, tmp_path: Path) -> None:
    url = (docs_dir / "static_index.html").as_uri()

    assert _tree_entries(rendered_dom(url)) == set(MODELS)
    _assert_page_drawn(url, tmp_path / "static.png")


def test_serve_without_generated_docs_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["docs", "--serve", "--target-path", str(tmp_path), "--log-format", "json"])

    assert code == 3  # ExitCode.CONFIGURATION_ERROR
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["event"] == "docs_not_generated"
    assert event["missing"] == ["index.html", "manifest.json", "catalog.json"]
    assert "workbench docs" in event["hint"]
