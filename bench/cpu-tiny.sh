#!/usr/bin/env bash
# The tiny model through the whole pipeline, plain graph vs optimised graph, in alternating rounds (issue 14 point 3:
# no regression at 256² and 512²).
#
#   bench/cpu-tiny.sh [ROUNDS=3] [ITERATIONS=3]
#
# Writes the tiny model and its CPU-optimised copy into a temp folder, then runs `diffusion bench` (20 steps, batch 1
# and 4) on each in turn, per size, per round, and prints the rows with their round and graph. Needs a Release build.
set -euo pipefail
rounds=${1:-3}
iterations=${2:-3}
cli=${DIFFUSION_CLI:-$(dirname "$0")/../src/DiffusionCli/bin/Release/net10.0/diffusion.dll}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet "$cli" create-tiny-model --out "$work/plain" >/dev/null
dotnet "$cli" optimize --model "$work/plain" --out "$work/optimized" >/dev/null

echo "tiny model, 20 steps, guidance 7.5, ${iterations} timed generations per row after a warm-up; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | graph | batch | size | steps | images/s | s/image | wall s | ORT Run s | overhead ratio | managed KiB/generation | GCs gen0/1/2 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for size in 256 512; do
    for graph in plain optimized; do
      dotnet "$cli" bench --model "$work/$graph" --provider cpu --size "$size" --batch 1,4 --iterations "$iterations" --skip-noise \
        | grep -E '^\| [0-9]' | sed "s/^|/| $round | $graph |/"
    done
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
