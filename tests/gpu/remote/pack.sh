#!/usr/bin/env bash
# pack.sh - packs what a GPU run needs beyond the git tree into pieces small enough for the
# device tool's carry (64 MiB per call, the ~18 MB tree included): .carry/up/c1 .. cN, each one
# file piece of one zstd tarball (build-gpu binaries, models, samples, libcmocka, the ONNX Runtime
# core and its providers, the 230 MB CUDA one included).
#
#   make gpu-build && bash tests/gpu/remote/pack.sh [MB_PER_PIECE=40]   (46 fits beside an 18 MB tree)
#
# Then, one device call per piece, in quick succession (the machine keeps /var/tmp while warm):
#   mkdir -p /var/tmp/vg && cp .carry/up/cK/* /var/tmp/vg/          (carry [".carry/up/cK"])
# and a last call that unpacks and runs, in the same call (each call gets a fresh tree copy):
#   bash tests/gpu/remote/unpack.sh && ONLY=REGEX bash tests/gpu/remote/go.sh NAME
set -euo pipefail
cd "$(dirname "$0")/../../.."
mb=${1:-40}
ORT=third_party/onnxruntime/lib
[ -x build-gpu/vidgraph ] || { echo "pack: build-gpu/vidgraph missing (make gpu-build)" >&2; exit 1; }
[ -f "$ORT/libonnxruntime_providers_cuda.so" ] || {
  echo "pack: $ORT has no CUDA provider (VG_ORT_GPU=1 scripts/setup.sh)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "pack: zstd missing (apt-get install zstd)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root/build-gpu" "$tmp/root/ort" "$tmp/root/.carry/lib"
# the binaries run_gpu.sh and its steps call (not the object files)
find build-gpu -maxdepth 1 -type f -executable \( -name vidgraph -o -name 'test_gpu_*' \
  -o -name 'test_core_*' -o -name 'bench_*' -o -name 'vg_*' \) -exec cp {} "$tmp/root/build-gpu/" \;
cp -a models "$tmp/root/"
# the FFmpeg-less build reads raw .h264 (and pictures), not .mp4
mkdir -p "$tmp/root/samples"
(cd samples && tar -cf - --exclude='*.mp4' .) | tar -C "$tmp/root/samples" -xf -
cp "$ORT"/libonnxruntime.so "$ORT"/libonnxruntime_providers_shared.so \
  "$ORT"/libonnxruntime_providers_tensorrt.so "$ORT"/onnxruntime-origin.txt "$tmp/root/ort/"
cmocka=$(ldconfig -p | sed -n 's/.*libcmocka.so.0 .*=> \(.*\)/\1/p' | head -n 1)
[ -n "$cmocka" ] && cp -L "$cmocka" "$tmp/root/.carry/lib/libcmocka.so.0"
# one tarball with the CUDA provider in it, cut in equal pieces: one device call fewer than two
cp "$ORT/libonnxruntime_providers_cuda.so" "$tmp/root/ort/"
tar -C "$tmp/root" -cf - . | zstd -T0 -10 -q -o "$tmp/all.tar.zst"
rm -rf .carry/up; mkdir -p .carry/up
split -b "$((mb * 1000 * 1000))" -d -a 2 "$tmp/all.tar.zst" "$tmp/all.part"
i=0
for p in "$tmp"/all.part*; do
  i=$((i + 1)); mkdir -p ".carry/up/c$i"; mv "$p" ".carry/up/c$i/"
done
cp "$(command -v zstd)" ".carry/up/c$i/zstd"   # the smallest piece
du -sh .carry/up/c*
echo "pack: $i pieces in .carry/up (c1..c$i)"
