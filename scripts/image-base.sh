#!/usr/bin/env bash
# A STAND-IN for the Dockerfile's base image (python:3.11.x-slim-bookworm), built from Debian
# packages with mmdebstrap and tagged locally under the base's name. Use it only on a machine
# that cannot pull from a container registry: the result is Debian's python3.11 (3.11.2), not
# the official image's CPython build, and it stays on this machine.
#   scripts/image-base.sh [--if-unpullable] ENGINE BASE_TAG
# --if-unpullable: do nothing when BASE_TAG is already present or can be pulled.
set -euo pipefail
only_if_unpullable=false
if [ "${1:-}" = --if-unpullable ]; then only_if_unpullable=true; shift; fi
engine=${1:?usage: image-base.sh [--if-unpullable] ENGINE BASE_TAG}
base=${2:?usage: image-base.sh [--if-unpullable] ENGINE BASE_TAG}
if $only_if_unpullable; then
  # shellcheck disable=SC2086 # $engine is a word list (e.g. podman --runtime runc)
  if $engine image inspect "$base" >/dev/null 2>&1 || $engine pull "$base" >/dev/null 2>&1; then
    exit 0
  fi
fi

shout() { printf '\n\033[1;33m!!! %s\033[0m\n' "$*" >&2; }
shout "building a STAND-IN for ${base} from Debian packages (mmdebstrap); the real base could not be used"

command -v mmdebstrap >/dev/null || { echo "mmdebstrap not found: apt-get install mmdebstrap" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "the stand-in base is built as root (mmdebstrap --mode=root)" >&2; exit 2; }

# The mirror this machine's apt already reaches (a proxy or a local mirror), else Debian's CDN.
mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 'Codename: bookworm' 'Component: main' 2>/dev/null \
  | grep -v -- '-security' | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian/}
echo "mirror: ${mirror}" >&2

work=$(mktemp -d /tmp/image-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The official slim image's shape: Debian's python3.11 reachable as /usr/local/bin/python3.11,
# python, python3, pip from Debian's own wheel installed under /usr/local, no EXTERNALLY-MANAGED
# marker, no docs, man pages or apt lists.
mmdebstrap --mode=root --variant=minbase --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=python3.11,python3-pip-whl,ca-certificates,tzdata,passwd \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='for n in python3.11 python3 python; do ln -sf /usr/bin/python3.11 "$1/usr/local/bin/$n"; done' \
  --customize-hook='rm -f "$1"/usr/lib/python3.11/EXTERNALLY-MANAGED' \
  --customize-hook='chroot "$1" sh -c "w=\$(ls /usr/share/python-wheels/pip-*.whl) && python3.11 \$w/pip install --no-index --no-cache-dir --disable-pip-version-check --root-user-action=ignore \$w"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
  bookworm "$work/rootfs.tar" "deb ${mirror} bookworm main" "deb ${mirror} bookworm-updates main"

# shellcheck disable=SC2086
$engine import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --message "stand-in for ${base} (mmdebstrap minbase + Debian python3.11)" \
  "$work/rootfs.tar" "$base"
shout "tagged the STAND-IN as ${base}; 'make image' now builds on it. Never push an image built on it."
