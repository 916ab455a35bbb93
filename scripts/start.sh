#!/usr/bin/env bash
# `npm start`: the dashboard's production server (after `npm run build`), with the memory settings measured
# in README.md ("Speed"). scripts/server.mjs is Next's production handler behind a server that takes each
# client's address from the connection (or a proxy named in REGISTRY_TRUSTED_PROXIES), never from a header
# the client sent, and believes sign-in proxy headers (REGISTRY_AUTH_PROXY=1) from those proxies alone: in
# that mode it will not start without REGISTRY_TRUSTED_PROXIES, and a bare `next start` signs nobody in by
# header. Arguments as for `next start` (e.g. `npm start -- -p 8080 -H 127.0.0.1`).
set -euo pipefail
cd "$(dirname "$0")/.."
# glibc gives busy threads malloc arenas of their own; two are plenty for Node (~40 MB less resident).
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# With a ceiling V8 grows its heap in smaller steps (~20 MB less resident at 20k versions). 1 GB is ten
# times what 20,000 versions need; raise REGISTRY_HEAP_MB for registries far larger than that.
# (A smaller young generation saved ~20 MB more but slowed a full chain check of 100k events by a third.)
export NODE_OPTIONS="--max-old-space-size=${REGISTRY_HEAP_MB:-1024} ${NODE_OPTIONS:-}"
# The only WebAssembly the server runs is Prisma's query compiler; V8's baseline compiler alone keeps it from
# also holding optimised code for it: ~45 MB less resident, pages as fast, a full chain check or an export
# of 100k events within 0-6 %. (Node refuses this flag in NODE_OPTIONS, so it is an argument.)
exec node --liftoff-only scripts/server.mjs "$@"
