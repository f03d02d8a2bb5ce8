#!/usr/bin/env bash
# test_infer_cli.sh - `vidgraph check`, `vidgraph models inspect` and `vidgraph bench` end to end
# on the CPU (and whatever providers this machine has). Needs a full build ($VG_BIN).
set -uo pipefail
cd "${VG_SOURCE_DIR:-$(dirname "$0")/../..}"
BIN=${VG_BIN:-build/vidgraph}
[ -x "$BIN" ] || { echo "SKIP: no vidgraph binary at $BIN"; exit 77; }
PY=/usr/bin/python3
[ -x $PY ] || PY=python3
[ -f models/test/tiny_mlp.onnx ] && [ -f models/test/VERSION ] || /usr/bin/python3 scripts/gen_test_models.py >/dev/null || exit 1
T=$(mktemp -d /tmp/vg_infer_cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
# expect NAME WANT_RC CMD... : runs CMD (stdout in $T/out, stderr in $T/err), checks the exit code
expect() {
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$name"; else bad "$name (exit $rc, wanted $want)"; cat "$T/out" "$T/err" | sed 's/^/     /' | head -20; fi
}
has() { grep -qF -- "$2" "$T/out" "$T/err" && ok "$1" || { bad "$1: output lacks '$2'"; cat "$T/out" "$T/err" | head -20 | sed 's/^/     /'; }; }
# json NAME PYTHON-EXPR: evaluates EXPR with j = the JSON in $T/out
json() { $PY -c "import json,sys; j=json.load(open('$T/out')); sys.exit(0 if ($2) else 1)" && ok "$1" || { bad "$1: $2"; head -40 "$T/out" | sed 's/^/     /'; }; }
GPU=$($PY -c "print(1)" >/dev/null; "$BIN" version --json 2>/dev/null | $PY -c "import json,sys; j=json.load(sys.stdin); print(1 if len(j['devices'])>1 else 0)")

# ---------------------------------------------------------------- check
expect "check runs" 0 "$BIN" check
has "check lists the cpu provider" "cpu       ok"
has "check shows the ONNX Runtime version" "onnxruntime   1."
expect "check --json" 0 "$BIN" check --json
json "check json: cpu usable" "[p for p in j['providers'] if p['provider']=='cpu'][0]['usable']"
if [ "$GPU" = 0 ]; then
  json "check json: cuda reason" "'no CUDA device' in [p for p in j['providers'] if p['provider']=='cuda'][0]['reason']"
  json "check json: tensorrt reason" "'reason' in [p for p in j['providers'] if p['provider']=='tensorrt'][0]"
fi
# a model list, not a graph (a graph is also validated as `run` would: test_cli_reliability.sh)
cat >"$T/graph.yaml" <<YAML
models:
  - id: det
    type: infer
    params: {model: $PWD/models/test/tiny_mlp.onnx, providers: [cuda, cpu], threshold: 0.5}
  - id: plate-ocr
    type: infer
    params: {model: missing-rec.onnx, required: false, providers: [cpu]}
YAML
expect "check config with an optional missing model" 0 "$BIN" check "$T/graph.yaml"
has "check names the optional model" "plate-ocr"
has "check marks it optional" "optional, feature disabled"
has "check loads det" "det              ok on cpu"
cat >>"$T/graph.yaml" <<YAML
  - id: cls
    type: infer
    params: {model: missing-cls.onnx, fallback: also-missing.onnx}
YAML
expect "check fails on a required missing model" 1 "$BIN" check "$T/graph.yaml"
has "check says required" "ERROR (required)"
has "check names the missing file" "missing-cls.onnx"
expect "check --json with config" 1 "$BIN" check --json "$T/graph.yaml"
json "check json: three models" "len(j['models'])==3 and j['errors']==1"
json "check json: det report" "j['models'][0]['report']['provider']=='cpu' and j['models'][0]['name']=='det'"
printf 'nodes: [\n' >"$T/broken.yaml"
expect "check on a malformed config" 1 "$BIN" check "$T/broken.yaml"
has "check names the malformed file" "broken.yaml"
expect "check bad option" 2 "$BIN" check --frobnicate

# ---------------------------------------------------------------- models inspect
expect "inspect tiny" 0 "$BIN" models inspect models/test/tiny_mlp.onnx
has "inspect shows the input" 'x                        float32  ["batch",8]'
has "inspect shows the opset" "opset:     17"
has "inspect shows metadata" "author           vidgraph"
has "inspect says cpu can load it" "cpu       yes"
expect "inspect --json ppocr det" 0 "$BIN" models inspect models/ppocr/ch_PP-OCRv4_det_infer.onnx --json
json "inspect json: det input" "j['inputs'][0]['name']=='x' and j['inputs'][0]['shape'][1]==3 and isinstance(j['inputs'][0]['shape'][2], str)"
json "inspect json: det opset" "j['metadata']['opset']==11"
json "inspect json: cpu usable" "[p for p in j['providers'] if p['provider']=='cpu'][0]['usable']"
head -c 1000 models/test/yolo_like.onnx >"$T/trunc.onnx"
expect "inspect truncated model fails" 1 "$BIN" models inspect "$T/trunc.onnx"
has "inspect names the truncated file" "trunc.onnx"
expect "inspect missing model fails" 1 "$BIN" models inspect "$T/nope.onnx"
has "inspect names the missing file" "nope.onnx"
expect "models without subcommand" 2 "$BIN" models

# ---------------------------------------------------------------- bench
expect "bench tiny --json" 0 "$BIN" bench models/test/tiny_mlp.onnx --provider cpu --iterations 30 --warmup 2 --batch 4 --json
json "bench json: stats ordered" "0<j['latency_ms']['min']<=j['latency_ms']['median']<=j['latency_ms']['p90']<=j['latency_ms']['p99']<=j['latency_ms']['max']"
json "bench json: batch 4 input" "j['inputs']['x']=='f32[4,8]@cpu' and j['iterations']==30"
json "bench json: runs counted" "j['report']['runs']==32 and j['throughput_per_s']>0"
expect "bench with io binding" 0 "$BIN" bench models/test/tiny_mlp.onnx --provider cpu --io-binding --iterations 5
has "bench text output" "latency ms: min"
has "bench reports io binding" "io_binding on"
expect "bench needs --shape for dynamic dims" 1 "$BIN" bench models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx --provider cpu
has "bench names the missing shape" "--shape x:"
expect "bench with --shape" 0 "$BIN" bench models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx --provider cpu --shape x:2x3x48x192 --iterations 3 --json
json "bench json: shape used" "j['inputs']['x']=='f32[2,3,48,192]@cpu'"
expect "bench wrong --shape rank" 1 "$BIN" bench models/test/tiny_mlp.onnx --provider cpu --shape x:2x8x1
has "bench wrong shape names the input" "input 'x'"
expect "bench bad provider" 2 "$BIN" bench models/test/tiny_mlp.onnx --provider npu
expect "bench bad shape syntax" 2 "$BIN" bench models/test/tiny_mlp.onnx --shape x:2xx8
expect "bench bad iterations" 2 "$BIN" bench models/test/tiny_mlp.onnx --iterations 0
if [ "$GPU" = 0 ]; then
  expect "bench on cuda without a GPU fails" 1 "$BIN" bench models/test/tiny_mlp.onnx --provider cuda
  has "bench says why" "no CUDA device"
fi

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
