#!/usr/bin/env bash
# Build images/dbt-runtime/Dockerfile with docker or podman (scripts/container-engine.sh).
#   scripts/image-build.sh IMAGE:TAG [extra build flags, e.g. --build-arg POSTGRES_HOST=db]
# CA_BUNDLE=/path/to/ca.pem passes a CA bundle as the build secret `ca-bundle` (for a
# TLS-intercepting proxy); it is mounted into the RUNs that download and never stored in the image.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: image-build.sh IMAGE:TAG [build flags]}
shift
dockerfile=images/dbt-runtime/Dockerfile
{ read -r engine; read -r flags || true; } < <(bash scripts/container-engine.sh)
secret=()
if [ -n "${CA_BUNDLE:-}" ]; then
  [ -r "$CA_BUNDLE" ] || { echo "CA_BUNDLE=$CA_BUNDLE is not a readable file" >&2; exit 2; }
  secret=(--secret "id=ca-bundle,src=$CA_BUNDLE")
fi
base=$(sed -n 's/^FROM \([^ ]*\) AS build$/\1/p' "$dockerfile")
if ! $engine image inspect "$base" >/dev/null 2>&1 && ! $engine pull "$base" >/dev/null; then
  echo "cannot pull the base image $base. On a machine without registry access," \
    "'make image-base' builds a local stand-in from Debian packages (see docs/image.md)." >&2
  exit 2
fi
# shellcheck disable=SC2086 # $engine and $flags are word lists by design
DOCKER_BUILDKIT=1 $engine build $flags "${secret[@]}" -f "$dockerfile" -t "$ref" "$@" .
