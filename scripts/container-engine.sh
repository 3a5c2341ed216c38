#!/usr/bin/env bash
# Which container engine builds and runs the image here, as two lines:
#   1. the engine command (with global flags)   2. flags for its `build` and `run`
# CONTAINER_ENGINE=docker|podman picks one; otherwise a docker with a reachable daemon, else podman.
# Podman runs with runc when installed (crun fails on some cgroup layouts) and with explicit
# nofile/nproc limits (its defaults fail with "setrlimit: operation not permitted" in some sandboxes).
set -euo pipefail
choice=${CONTAINER_ENGINE:-}
if [ -z "$choice" ]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    choice=docker
  elif command -v podman >/dev/null; then
    choice=podman
  else
    echo "no container engine: install Docker, or podman (apt-get install podman runc)" >&2
    exit 2
  fi
fi
case "$choice" in
  docker)
    echo docker
    echo "" ;;
  podman)
    if command -v runc >/dev/null; then echo "podman --runtime runc"; else echo podman; fi
    echo "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024" ;;
  *)
    echo "CONTAINER_ENGINE must be docker or podman, not '$choice'" >&2
    exit 2 ;;
esac
