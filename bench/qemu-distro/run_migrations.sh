#!/bin/bash
# Step 4: 8 GiB distro guest, legacy vs hinted, downtime-limit 2000 ms, 100 GB/s, 3 pairs each
# (order alternates per pair).  idle: migrate 60 s after FPH-READY.  used: 60 s idle after
# FPH-READY, `fill 75` (churn writes 75 % of MemFree, frees it), 25 s settle, migrate.
set -euo pipefail
cd "$(dirname "$0")"
R=${RESULTS:-/tmp/qemu-distro/results}
SIZES=${SIZES:-8192}
mkdir -p "$R"
python3 distro_bench.py --sizes "$SIZES" --workloads idle --downtimes 2000 --reps "${REPS:-3}" \
  --settle 60 --post-s 5 --out "$R/mig-idle.jsonl"
python3 distro_bench.py --sizes "$SIZES" --workloads used --downtimes 2000 --reps "${REPS:-3}" \
  --pre-idle 60 --settle 25 --post-s 5 --out "$R/mig-used.jsonl"
