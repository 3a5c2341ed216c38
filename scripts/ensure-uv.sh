#!/usr/bin/env bash
# Make `uv` available to make: keep one on PATH, else install it from PyPI with the interpreter's
# pip (Debian's own Python refuses a plain `pip install` outside a venv: PEP 668) and link it as
# ~/.local/bin/uv, which the Makefile puts on PATH wherever pip put the binary. Only make needs
# uv: the commands in README.md and docs/ run from the activated .venv (see README, Quick start).
set -euo pipefail
link=$HOME/.local/bin/uv
command -v uv >/dev/null && exit 0
[ -x "$link" ] && exit 0
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "uv is missing and python3 has no pip: apt-get install python3-pip (or install uv)" >&2
  exit 1
fi
python3 -m pip install --quiet --user uv 2>/dev/null \
  || python3 -m pip install --quiet uv 2>/dev/null \
  || python3 -m pip install --quiet --user --break-system-packages uv
installed=$(python3 -c 'import uv; print(uv.find_uv_bin())')
mkdir -p "$(dirname "$link")"
if [ "$installed" -ef "$link" ]; then
  echo "uv installed: $link"
else
  ln -sf "$installed" "$link"
  echo "uv installed: $installed (linked as $link for make)"
fi
