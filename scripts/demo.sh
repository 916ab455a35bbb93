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
npm run --silent build > /tmp/next-build.log 2>&1 || { cat /tmp/next-build.log; exit 1; }
node cli/bin.mjs list
echo
exec bash scripts/demo-serve.sh
