"""`workbench docs --serve`: the generated docs over HTTP on 127.0.0.1, like `dbt docs serve`.

`index.html` fetches `manifest.json` and `catalog.json` beside it, which browsers refuse for
file:// pages; served over HTTP it works. Only loopback is bound: the docs describe the
warehouse, they are not for the network. Ctrl-C (or SIGTERM) stops the server cleanly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from workbench.docs.generate import SITE_FILES

BIND_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 8080
REQUIRED_FILES = tuple(name for name in SITE_FILES if name != "static_index.html")


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves one directory; no access log on the terminal (one line per asset is noise)."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def end_headers(self) -> None:
        # The docs change with every `workbench docs`: never serve a stale manifest from cache.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def missing_site_files(directory: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (directory / name).is_file()]


def make_server(directory: Path, port: int) -> ThreadingHTTPServer:
    """Bind (port 0 picks a free one); raises OSError when the port is taken."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    return ThreadingHTTPServer((BIND_ADDRESS, port), handler)


def serve(server: ThreadingHTTPServer, on_ready: Callable[[str], None]) -> None:
    """Serve until interrupted; the socket is closed however it ends."""
    host, port = server.server_address[:2]
    on_ready(f"http://{host!s}:{port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
