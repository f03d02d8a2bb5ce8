# ort_core.sh - the matched ONNX Runtime core (issue 12, item 1), sourced by run_gpu.sh: which
# core library this run loads (vidgraph check prints its path and origin: on a GPU machine
# scripts/setup.sh installs onnxruntime-node@1.29.0's core, whose onnxruntime-origin.txt must sit
# beside it in $ORTDIR), then the ORIGINAL PP-OCRv4 recogniser, Slice nodes included, on the CUDA
# provider. With the CPU package's core that step dies with SIGSEGV (FAIL(139)); when it passes
# with the matched core, scripts/ort_compat.py can leave the default path (docs/PERF.md).
ORT_REC=models/ppocr/ch_PP-OCRv4_rec_infer.onnx
ort_core_origin() {
  "$VG_BIN" check | sed -n 's/^  core *\(.*\)/KEY: core \1/p; s/^  from *\(.*\)/KEY: from \1/p'
}
step ort-core-origin ort_core_origin
if [ -f "$ORT_REC" ]; then
  step ort-rec-original-cuda "$VG_BIN" bench "$ORT_REC" --provider cuda --shape x:8x3x48x320 \
    --warmup 10 --iterations 200 --io-binding
fi
