#!/usr/bin/env bash
# Make `uv` available: keep one on PATH, else install it from PyPI with the interpreter's pip
# (Debian's own Python refuses a plain `pip install` outside a venv: PEP 668).
set -euo pipefail
command -v uv >/dev/null && exit 0
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "uv is missing and python3 has no pip: apt-get install python3-pip (or install uv)" >&2
  exit 1
fi
python3 -m pip install --quiet --user uv 2>/dev/null \
  || python3 -m pip install --quiet uv 2>/dev/null \
  || python3 -m pip install --quiet --user --break-system-packages uv
command -v uv >/dev/null || {
  echo "uv was installed into $(python3 -m site --user-base)/bin: add it to PATH" >&2
  exit 1
}
