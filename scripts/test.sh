#!/usr/bin/env bash
# Every test, from a fresh clone: installs what is missing, then typecheck, lint, unit and integration
# tests, a production build and the browser journeys. With CI=true (or LONG_PROOFS=1) it also runs the
# long proofs: many more random crash kills, and 50 readers against the dashboard for a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
RESULTS="$(mktemp -d)"

step() { printf '\n==> %s\n' "$*"; }

# Debian packages the tests need: Chromium for Playwright; bubblewrap and the scikit-learn stack for the
# sandboxed loads_and_predicts check (lib/load-check).
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -x /usr/bin/bwrap ] || missing="$missing bubblewrap"
/usr/bin/python3 -c "import sklearn, joblib, pandas" 2>/dev/null || missing="$missing python3-sklearn python3-joblib python3-pandas"
if [ -n "$missing" ]; then
  step "Installing Debian packages:$missing"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

# PostgreSQL: the replica tests (lib/db, cli/db.test.ts, e2e/replicas.spec.ts) each make and drop their own
# throwaway database on it. Turned off only explicitly, with REGISTRY_TEST_POSTGRES=0.
if [ "${REGISTRY_TEST_POSTGRES:-1}" != "0" ]; then
  step "PostgreSQL"
  bash scripts/postgres-up.sh
  export REGISTRY_TEST_POSTGRES_URL="${REGISTRY_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
  # Every throwaway database of this run is named with this prefix, and all are dropped when the run ends,
  # whatever happened to the tests that made them.
  export REGISTRY_TEST_POSTGRES_PREFIX="registry_run_$$_"
  trap 'psql "$REGISTRY_TEST_POSTGRES_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE '"'"'${REGISTRY_TEST_POSTGRES_PREFIX}%'"'"'" 2>/dev/null |
    while read -r db; do psql "$REGISTRY_TEST_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done' EXIT
else
  step "PostgreSQL tests turned off (REGISTRY_TEST_POSTGRES=0): the replica proofs will be reported as skipped"
fi

step "Prisma client and CLI bundle"
npm run --silent db:generate >/dev/null
npm run --silent cli:build

step "Typecheck"
npx tsc --noEmit -p .

step "Lint"
npx biome lint .

step "Unit and integration tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$RESULTS/vitest.json"

step "Production build"
npm run --silent build > "$RESULTS/next-build.log" 2>&1 || { cat "$RESULTS/next-build.log"; exit 1; }

step "Browser tests (Playwright, Chromium)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$RESULTS/playwright.json" npx playwright test --reporter=list,json

long=0
if [ "${CI:-}" = "true" ] || [ "${LONG_PROOFS:-}" = "1" ]; then
  long=1
  step "Long proofs: 40 random SIGKILLs during promotions and rollbacks"
  CRASH_RANDOM_RUNS=40 npx vitest run cli/crash.test.ts --reporter=default --reporter=json --outputFile.json="$RESULTS/crash.json"
  step "Long proofs: 50 readers for 60 s while production changes"
  LOAD_SECONDS=60 node bench/load.mjs
  if [ "${REGISTRY_TEST_POSTGRES:-1}" != "0" ]; then
    step "Long proofs: 50 readers for 60 s over two replicas on PostgreSQL while production changes"
    LOAD_SECONDS=60 LOAD_POSTGRES=1 node bench/load.mjs
    long=2
  fi
fi

node -e '
const fs = require("fs");
const dir = process.argv[1];
let passed = 0, failed = 0, skipped = 0;
for (const f of ["vitest.json", "crash.json"]) {
  if (!fs.existsSync(`${dir}/${f}`)) continue;
  const r = JSON.parse(fs.readFileSync(`${dir}/${f}`, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
}
const p = JSON.parse(fs.readFileSync(`${dir}/playwright.json`, "utf8")).stats;
passed += p.expected; failed += p.unexpected + p.flaky; skipped += p.skipped;
passed += Number(process.argv[2]); // the load proofs, which exit non-zero on failure
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$RESULTS" "$long"
