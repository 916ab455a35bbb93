#!/usr/bin/env bash
# Mounts a small XFS file system with reflinks (a loop device over an image file) and prints its folder, so
# the benchmark can also time a promotion where the kernel copy is a clone:
#   BENCH_REFLINK_DIR=$(bench/reflink-fs.sh) npm run bench
# Needs root and xfsprogs (apt-get install xfsprogs). Undo: umount /tmp/registry-bench-xfs && rm /tmp/registry-bench-xfs.img
set -euo pipefail
dir="${1:-/tmp/registry-bench-xfs}"
image="${dir}.img"
if ! mountpoint -q "$dir"; then
  command -v mkfs.xfs > /dev/null || { echo "mkfs.xfs is missing: apt-get install xfsprogs" >&2; exit 1; }
  rm -f "$image"
  truncate -s 2G "$image"
  mkfs.xfs -q -m reflink=1 "$image"
  mkdir -p "$dir"
  mount -o loop "$image" "$dir"
fi
echo "$dir"
