#!/usr/bin/env bash
# GPU benchmark of the SD 1.5 architecture on ONNX Runtime's CUDA provider (issue 14 point 6).
#
#   bench/gpu.sh [--cli PATH] [--work DIR] [--cpu-only] [--quick]
#
# Needs: Linux x86-64, an NVIDIA GPU with its driver (nvidia-smi), CUDA 13 + cuDNN 9 libraries — either on the
# library path already or as Python wheels (nvidia-cublas, nvidia-cudnn-cu13, nvidia-cuda-runtime, …: the script finds
# every site-packages/nvidia/*/lib folder and puts it on LD_LIBRARY_PATH) — and a self-contained publish of the CLI
# (bench/gpu-publish.sh builds it; no .NET needed on the machine). Default CLI: ./publish/diffusion.
#
# What it does:
#   1. writes the sd15 preset (full SD 1.5 architecture, random weights) in float16, and its optimised copy
#      (`diffusion optimize --provider cuda`: MultiHeadAttention, GroupNorm+SiLU, GELU, SiLU);
#   2. checks CUDA against CPU at 64×64 (same seed, 4 steps): plain and optimised graphs, PSNR printed;
#   3. measures seconds per image at 512×512, 50 steps, batch 1 and 4: plain, optimised, optimised + CUDA graphs,
#      with peak GPU memory (nvidia-smi, sampled every 100 ms while each configuration runs);
#   4. prints one Markdown table (and the card, driver and library versions) for BENCHMARKS.md.
# Under 8 minutes on an H100-class card (most of it writing the 2 GB model and cuDNN's first-call algorithm search).
#
# --cpu-only runs the same steps on the CPU with the tiny model at small sizes and no nvidia-smi, to check the script
# itself on a machine without a GPU. --quick measures 10 steps instead of 50.
set -euo pipefail

cli=${DIFFUSION_CLI:-./publish/diffusion}
work=${TMPDIR:-/tmp}/diffusion-gpu-bench
cpu_only=0
steps=50
while [ $# -gt 0 ]; do
  case "$1" in
    --cli) cli=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --cpu-only) cpu_only=1; shift ;;
    --quick) steps=10; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 64 ;;
  esac
done

# The CLI: a self-contained publish (an executable) or, for --cpu-only checks on a dev machine, a diffusion.dll.
if [ -x "$cli" ] && [ "${cli##*.}" != dll ]; then run_cli() { "$cli" "$@"; }
elif [ -f "$cli" ]; then run_cli() { dotnet "$cli" "$@"; }
else echo "error: no CLI at $cli (build it with bench/gpu-publish.sh, or pass --cli)" >&2; exit 66; fi

log() { echo "[gpu.sh $(date +%H:%M:%S)] $*" >&2; }

# 0. CUDA libraries from Python wheels: every site-packages/nvidia/<name>/lib folder goes on LD_LIBRARY_PATH.
find_wheel_libs() {
  local roots=()
  for python in python3 python; do
    command -v "$python" >/dev/null 2>&1 || continue
    while IFS= read -r path; do [ -n "$path" ] && roots+=("$path"); done < <("$python" - <<'PY' 2>/dev/null || true
import site, sys
paths = set(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
paths.add(site.getusersitepackages())
paths.update(p for p in sys.path if p.endswith("-packages"))
print("\n".join(sorted(paths)))
PY
)
  done
  roots+=(/usr/local/lib/python3*/dist-packages /usr/lib/python3/dist-packages "$HOME"/.local/lib/python3*/site-packages)
  local found=()
  for root in "${roots[@]}"; do
    [ -d "$root/nvidia" ] || continue
    for lib in "$root"/nvidia/*/lib "$root"/nvidia/cu13/lib; do
      [ -d "$lib" ] && found+=("$lib")
    done
  done
  printf '%s\n' "${found[@]}" | awk 'NF && !seen[$0]++'
}

if [ "$cpu_only" -eq 0 ]; then
  command -v nvidia-smi >/dev/null || { echo "error: nvidia-smi not found: this needs an NVIDIA GPU and driver (or use --cpu-only)" >&2; exit 69; }
fi
wheel_libs=$(find_wheel_libs | paste -sd: -)
if [ -n "$wheel_libs" ]; then
  export LD_LIBRARY_PATH="$wheel_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  log "CUDA libraries from Python wheels: $(echo "$wheel_libs" | tr ':' '\n' | wc -l) folders on LD_LIBRARY_PATH"
else
  log "no nvidia-* Python wheels found; relying on the system library path for CUDA 13 / cuDNN 9"
fi

if [ "$cpu_only" -eq 1 ]; then
  provider=cpu; preset=tiny; size=64; check_size=32; batches="1,2"; steps=2
else
  provider=cuda; preset=sd15; size=512; check_size=64; batches="1,4"
fi

mkdir -p "$work"
plain="$work/$preset-fp16"
optimized="$work/$preset-fp16-optimized"
start=$(date +%s)

# 1. Models.
if [ ! -f "$plain/model_index.json" ]; then
  log "writing the $preset float16 preset to $plain"
  run_cli create-tiny-model --preset "$preset" --dtype float16 --out "$plain" >&2
fi
if [ ! -f "$optimized/optimization.json" ]; then
  log "optimising it for CUDA into $optimized"
  run_cli optimize --model "$plain" --out "$optimized" --provider cuda >&2
fi

# 2. CUDA against CPU at a small size (same seed): the optimised CUDA graph has GroupNorm, which the CPU cannot run,
#    so both CUDA images are compared with the plain graph on the CPU.
log "checking $provider against cpu at ${check_size}x${check_size}"
agreement=""
gen() { run_cli generate --model "$1" --provider "$2" --prompt "a lighthouse at dusk" --width "$check_size" --height "$check_size" --steps 4 --seed 7 --out "$3" >&2; }
gen "$plain" cpu "$work/check-cpu.png"
for name in plain optimized; do
  folder=$plain; [ "$name" = optimized ] && folder=$optimized
  if [ "$provider" = cpu ] && [ "$name" = optimized ]; then folder=$work/tiny-fp16-optimized-cpu
    [ -f "$folder/optimization.json" ] || run_cli optimize --model "$plain" --out "$folder" --provider cpu >&2; fi
  if gen "$folder" "$provider" "$work/check-$name.png"; then
    agreement+="$name: $(run_cli compare-images "$work/check-cpu.png" "$work/check-$name.png" || true); "
  else
    agreement+="$name: generation failed; "
  fi
done

# 3. Timings, one configuration per process, with nvidia-smi sampling the card's memory meanwhile.
peak_file="$work/peak-mib"
sample_memory() {
  local peak=0 value
  while :; do
    value=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${CUDA_VISIBLE_DEVICES:-0}" 2>/dev/null | head -1 | tr -dc 0-9)
    [ -n "$value" ] && [ "$value" -gt "$peak" ] && peak=$value && echo "$peak" > "$peak_file"
    sleep 0.1
  done
}

rows=()
measure() {
  local label=$1 folder=$2; shift 2
  log "measuring: $label"
  echo 0 > "$peak_file"
  local sampler=""
  if [ "$cpu_only" -eq 0 ]; then sample_memory & sampler=$!; fi
  local output status=0
  output=$(run_cli bench --model "$folder" --provider "$provider" --size "$size" --steps "$steps" --batch "$batches" --iterations 1 --skip-noise "$@" 2>"$work/bench-stderr.txt") || status=$?
  if [ -n "$sampler" ]; then kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; fi
  local peak; peak=$(cat "$peak_file")
  [ "$cpu_only" -eq 1 ] && peak="n/a"
  if [ "$status" -ne 0 ]; then
    rows+=("| $label | – | failed: $(tail -1 "$work/bench-stderr.txt" | cut -c1-120) | | | | |")
    return
  fi
  # bench's table: | batch | size | steps | images/s | s/image | wall s | ORT Run s | overhead ratio | …
  while IFS='|' read -r _ batch _ _ ips spi _ _ ratio _; do
    batch=$(echo "$batch" | tr -d ' ')
    [[ "$batch" =~ ^[0-9]+$ ]] || continue
    rows+=("| $label | $batch | $(echo "$spi" | tr -d ' ') | $(echo "$ips" | tr -d ' ') | $(echo "$ratio" | tr -d ' ') | $peak |")
  done <<< "$output"
}

measure "plain fp16 graph" "$plain"
if [ "$cpu_only" -eq 1 ]; then
  measure "optimised fp16 graph" "$work/tiny-fp16-optimized-cpu"
else
  measure "optimised fp16 graph" "$optimized"
  measure "optimised + CUDA graphs" "$optimized" --cuda-graph
fi

# 4. The table.
echo
echo "## $preset, ${size}×${size}, $steps steps, provider $provider"
echo
if [ "$cpu_only" -eq 0 ]; then
  echo "Card: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1); CUDA libraries: ${wheel_libs:-system path}"
fi
echo "CPU vs $provider at ${check_size}×${check_size}: ${agreement}"
echo
echo "| configuration | batch | s/image | images/s | overhead ratio | peak GPU MiB |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Total time of this script: $(( $(date +%s) - start )) s"
