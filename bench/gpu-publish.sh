#!/usr/bin/env bash
# Builds what bench/gpu.sh needs on a GPU machine without .NET: a self-contained linux-x64 publish of the CLI, packed
# as tar.xz and split into chunks of at most 60 MiB (for transfers limited to 64 MiB each), with SHA-256 sums.
#
#   bench/gpu-publish.sh [OUT_DIR=artifacts/gpu-bench]
#
# Writes OUT_DIR/diffusion-linux-x64.tar.xz.part-aa, -ab, …, OUT_DIR/SHA256SUMS and a copy of bench/gpu.sh.
# On the GPU machine, in the folder holding those files:
#   sha256sum -c SHA256SUMS && cat diffusion-linux-x64.tar.xz.part-* | xz -d | tar -x   # → ./publish/diffusion
#   bash gpu.sh                                                                         # (pip install nvidia-cublas nvidia-cudnn-cu13 … first if CUDA is not installed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/artifacts/gpu-bench}
publish=$(mktemp -d)
trap 'rm -rf "$publish"' EXIT

dotnet publish "$root/src/DiffusionCli" -c Release -r linux-x64 --self-contained true -p:DebugType=none -o "$publish/publish"
# ONNX Runtime's GPU package copies its Windows native libraries (onnxruntime*.dll, ~210 MB) into every publish, and
# ships the TensorRT provider, which the engine never loads: neither is needed on Linux. (The managed
# Microsoft.ML.OnnxRuntime.dll stays.)
rm -rf "$publish/publish/runtimes/win-"* "$publish/publish/runtimes/osx-"* "$publish/publish/"onnxruntime*.dll \
  "$publish/publish/libonnxruntime_providers_tensorrt.so" 2>/dev/null || true
mkdir -p "$out"
rm -f "$out"/diffusion-linux-x64.tar.xz.part-* "$out/SHA256SUMS"
tar -C "$publish" -cf - publish | xz -T0 -6 | split -b 60M - "$out/diffusion-linux-x64.tar.xz.part-"
cp "$root/bench/gpu.sh" "$out/gpu.sh"
(cd "$out" && sha256sum diffusion-linux-x64.tar.xz.part-* gpu.sh > SHA256SUMS)
echo "publish: $(du -sh "$publish/publish" | cut -f1) → $(ls "$out"/diffusion-linux-x64.tar.xz.part-* | wc -l) chunk(s) in $out:"
ls -l "$out"
