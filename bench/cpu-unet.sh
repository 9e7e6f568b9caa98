#!/usr/bin/env bash
# UNet session settings and optimised graph, side by side on the CPU (issue 14 point 3).
#
#   [VARIANTS=a,b,…] bench/cpu-unet.sh PLAIN_MODEL OPTIMIZED_MODEL [ROUNDS=2] [SIZE=512] [CALLS=3] [BATCH=2]
#
# VARIANTS (default: all but the last two): binding, plain-run, no-arena, memory-pattern, threads1, no-spinning,
# optimized, optimized-plain-run, optimized-memory-pattern. "binding" is the engine's defaults (I/O binding, CPU arena,
# no memory pattern, spinning, one thread per physical core); each other variant changes one thing. NO_CACHE=1 skips the ORT optimised-model cache timing.
#
# Runs one configuration per process (`diffusion bench-unet`, so each peak RSS is its own) and alternates the
# configurations in rounds, so load changes on a shared machine hit every configuration alike. Waits while less
# than 12 GiB is available (the SD 1.5 UNet at 512² peaks above 10 GB). Prints one Markdown table, then the load
# time of the plain UNet with and without ONNX Runtime's optimised-model cache. Needs a Release build of the CLI:
#   dotnet build -c Release src/DiffusionCli
set -euo pipefail
plain=${1:?plain model folder}
optimized=${2:?optimized model folder}
rounds=${3:-2}
size=${4:-512}
calls=${5:-3}
batch=${6:-2}
cli=${DIFFUSION_CLI:-$(dirname "$0")/../src/DiffusionCli/bin/Release/net10.0/diffusion.dll}

wait_for_memory() {
  while [ "$(free -g | awk '/^Mem:/ {print $7}')" -lt 12 ]; do sleep 20; done
}

run() {
  local label=$1; shift
  wait_for_memory
  dotnet "$cli" bench-unet --size "$size" --batch "$batch" --calls "$calls" --label "$label" "$@"
}

echo "UNet ${size}×${size}, batch ${batch}, ${calls} calls per run (first reported apart), ${rounds} rounds; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round · configuration | provider | call | session s | first call s | s/call (later calls) | fastest call s | CPU s/call | peak RSS GiB |"
echo "|---|---|---|---|---|---|---|---|---|"
variants=${VARIANTS:-binding,plain-run,no-arena,memory-pattern,threads1,no-spinning,optimized}
for round in $(seq 1 "$rounds"); do
  for variant in ${variants//,/ }; do
    case "$variant" in
      binding) run "$round · plain graph, defaults" --model "$plain" ;;
      plain-run) run "$round · plain graph, plain Run" --model "$plain" --no-io-binding ;;
      no-arena) run "$round · plain graph, no CPU arena" --model "$plain" --no-arena ;;
      memory-pattern) run "$round · plain graph, memory pattern on" --model "$plain" --memory-pattern ;;
      threads1) run "$round · plain graph, 1 thread" --model "$plain" --threads 1 ;;
      no-spinning) run "$round · plain graph, no spinning" --model "$plain" --no-spinning ;;
      optimized) run "$round · optimised graph, defaults" --model "$optimized" ;;
      optimized-plain-run) run "$round · optimised graph, plain Run" --model "$optimized" --no-io-binding ;;
      optimized-memory-pattern) run "$round · optimised graph, memory pattern on" --model "$optimized" --memory-pattern ;;
      *) echo "unknown variant: $variant" >&2; exit 64 ;;
    esac
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
[ "${NO_CACHE:-0}" = 1 ] && exit 0
cache=$(mktemp -d)
echo "| UNet | session s, no cache | session s, saving ORT's optimised model | session s, from ORT's optimised model |"
echo "|---|---|---|---|"
wait_for_memory
dotnet "$cli" bench-unet --model "$plain" --ort-cache "$cache/plain" --label "plain graph"
wait_for_memory
dotnet "$cli" bench-unet --model "$optimized" --ort-cache "$cache/optimized" --label "optimised graph"
rm -rf "$cache"
