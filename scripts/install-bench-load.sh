#!/usr/bin/env bash
# Install the benchmark's load generator, npm autocannon, exactly as pinned in
# bench/load/package-lock.json, into bench/load/node_modules (git-ignored) with `npm ci` from the
# npm registry. Skipped when node_modules was installed from the same lock file. Run by
# `make tools` (scripts/install-tools.sh, so `make test` has it) and by `make bench`.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../bench/load" && pwd)
stamp=$dir/node_modules/.installed-from-package-lock.json
for tool in npm node; do
  command -v "$tool" >/dev/null || {
    echo "$tool is needed for the bench's load generator (autocannon): apt-get install npm" >&2
    exit 1
  }
done
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
(cd "$dir" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
cp "$dir/package-lock.json" "$stamp"
echo "autocannon $(cd "$dir" && node -p "require('./node_modules/autocannon/package.json').version"): $dir/node_modules"
