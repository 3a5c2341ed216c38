"""Headless Chromium (Debian package `chromium`) to see a page as a person's browser shows it,
after its JavaScript ran, and a small PNG reader to look at the screenshot's pixels."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

# Virtual time lets the page's scripts and fetches settle without waiting in real time; a page
# whose fetch never completes (file:// index.html) never reaches the budget, hence the timeout.
VIRTUAL_TIME_BUDGET_MS = 15_000
BROWSER_TIMEOUT_SECONDS = 90


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("headless Chromium is needed: apt-get install chromium")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
            *args,
        ],
        capture_output=True,
        timeout=BROWSER_TIMEOUT_SECONDS,
        check=True,
    )


def rendered_dom(url: str) -> str:
    return _run("--dump-dom", url).stdout.decode()


def screenshot(url: str, out: Path, width: int = 1280, height: int = 900) -> Image:
    _run(f"--screenshot={out}", f"--window-size={width},{height}", url)
    return read_png(out.read_bytes())


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    rows: list[bytes]  # RGB, 3 bytes per pixel

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        r, g, b = self.rows[y][3 * x : 3 * x + 3]
        return r, g, b

    def dark_pixels(self, left: int, top: int, right: int, bottom: int, below: int = 160) -> int:
        """Pixels in the box darker than ``below`` on every channel (text, icons)."""
        return sum(
            1
            for y in range(top, min(bottom, self.height))
            for x in range(left, min(right, self.width))
            if max(self.pixel(x, y)) < below
        )


def read_png(data: bytes) -> Image:
    """8-bit RGB or RGBA PNGs, as Chromium writes them (non-interlaced)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, color type {color}")
    channels = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rows.append(bytes(line) if channels == 3 else bytes(_drop_alpha(line)))
        previous = line
    return Image(width, height, rows)


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            guess = left + up - corner
            pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
            best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + best) & 0xFF


def _drop_alpha(line: bytearray) -> bytearray:
    out = bytearray()
    for i in range(0, len(line), 4):
        out += line[i : i + 3]
    return out
