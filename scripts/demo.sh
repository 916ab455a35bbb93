#!/usr/bin/env bash
# From a fresh clone to a running dashboard over the bundled demo registry (artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
PORT="${PORT:-3000}"

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
echo "Dashboard: http://localhost:${PORT}   (registry: ${REGISTRY_ROOT:-./artifacts})"
exec npm start -- -p "$PORT"
