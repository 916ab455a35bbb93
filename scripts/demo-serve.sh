#!/usr/bin/env bash
# The demo's server (the last step of scripts/demo.sh, after the build): `npm start` on 127.0.0.1 unless HOST
# says otherwise, because anyone who can reach it can sign in with the demo passwords from README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-3000}"
HOST="${HOST:-127.0.0.1}"
case "$HOST" in
  127.* | localhost | ::1)
    echo "Dashboard: http://localhost:${PORT}   (registry: ${REGISTRY_ROOT:-./artifacts})"
    echo "Listening on ${HOST} only: other machines cannot connect. HOST=0.0.0.0 npm run demo opens it to your network." ;;
  *)
    echo "Dashboard: http://${HOST}:${PORT}   (registry: ${REGISTRY_ROOT:-./artifacts})"
    echo "WARNING: listening on ${HOST}: anyone who can reach this machine can sign in with the demo passwords in README.md." ;;
esac
exec bash scripts/start.sh -p "$PORT" -H "$HOST"
