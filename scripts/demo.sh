#!/usr/bin/env bash
# From a fresh clone to a running dashboard over the bundled demo registry (artifacts/).
# The demo accounts' passwords are published in README.md, so it listens on this machine only (127.0.0.1)
# unless HOST says otherwise (HOST=0.0.0.0 for every interface).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
PORT="${PORT:-3000}"
HOST="${HOST:-127.0.0.1}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent db:generate >/dev/null
npm run --silent cli:build
# The audit database is created and migrated on first use anyway; doing it here shows where it lives.
node cli/bin.mjs db migrate
node scripts/demo-accounts.mjs
# The build's output goes to a private temporary file (not a fixed /tmp path another user could own), shown on failure.
build_log="$(mktemp "${TMPDIR:-/tmp}/model-registry-build.XXXXXX")"
npm run --silent build > "$build_log" 2>&1 || { cat "$build_log"; rm -f "$build_log"; exit 1; }
rm -f "$build_log"
node cli/bin.mjs list
echo
exec bash scripts/demo-serve.sh
