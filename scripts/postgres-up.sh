#!/usr/bin/env bash
# Makes sure PostgreSQL answers on 127.0.0.1:5432 (this project's machines: Debian's PostgreSQL 15, trust
# auth for local TCP). Installs and starts it when missing or stopped; fails loudly when it cannot.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
ready && exit 0
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v pg_ctlcluster >/dev/null; then
  echo "Installing PostgreSQL 15 (Debian)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q '^15 *main'; then as_root pg_createcluster 15 main >/dev/null; fi
hba=/etc/postgresql/15/main/pg_hba.conf
# Tests connect as postgres over TCP without a password: trust for loopback only.
if ! grep -q '^host *all *all *127.0.0.1/32 *trust' "$hba"; then
  as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
as_root pg_ctlcluster --skip-systemctl-redirect 15 main start || true
for _ in $(seq 1 60); do ready && exit 0; sleep 0.5; done
echo "PostgreSQL did not start on 127.0.0.1:5432" >&2
exit 1
