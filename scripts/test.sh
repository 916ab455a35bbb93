#!/usr/bin/env bash
# Every test, from a fresh clone: installs what is missing, then typecheck, unit tests, build, browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  step "Installing Debian's Chromium for Playwright"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
fi

step "Prisma client and CLI bundle"
npm run --silent db:generate >/dev/null
npm run --silent cli:build

step "Typecheck"
npx tsc --noEmit -p .

step "Lint"
npx biome lint .

step "Unit and integration tests (vitest)"
npx vitest run

step "Production build"
npx next build > /tmp/next-build.log 2>&1 || { cat /tmp/next-build.log; exit 1; }

step "Browser tests (Playwright, Chromium)"
npx playwright test
