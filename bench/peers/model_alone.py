#!/usr/bin/env python3
"""model_alone.py - each benchmark model alone in PyTorch (suite "model"): eager and CUDA graph,
FP32 and FP16, at the batch sizes the pipelines use, with the network rebuilt from the ONNX
file's initializers (bench/peers/onnx_torch.py). ONNX Runtime CUDA on the same files is
vidgraph's side (bench/run.sh measures it with `vidgraph bench`).

    bench/peers/model_alone.py [--models yolo_bench,ppocr_det,ppocr_rec] [--batches 1,8,16]
        [--precisions fp32,fp16] [--modes eager,cudagraph] [--warmup 20] [--iterations 200]
        [--device cuda|cpu] [--check]

Model shapes: yolo_bench [B,3,640,640] (models/bench/yolo_bench.onnx); ppocr_det [1,3,544,960]
and ppocr_rec [B,3,48,320] (models/ppocr/, the shapes of examples/plates.yaml and the plate peer).
Each timed run is synchronous (run, then torch.cuda.synchronize) like `vidgraph bench`.
One result object per model x precision x mode x batch on stdout: fps = images per second
(batch x 1000 / mean ms), latency_ms = per run. A model whose ops are not in the rebuild gets
one object with fps null and a note naming the ops: no number is invented (onnx_torch.py has
the ops of yolo_bench and of the PP-OCRv4 det and rec models).
--check compares the rebuild's FP32 output with ONNX Runtime's CPU provider (or, without the
onnxruntime module, the NumPy executor onnx_numpy.py) on one random image and puts the max
relative difference in the notes; above MAX_REL_DIFF the model gets no number (fps null, a
note) and the exit status is 1.
Without torch/onnx: one object per model with notes "skipped: ..." and exit 0 (CI smoke).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import peers_common as pc  # noqa: E402

MAX_REL_DIFF = 0.05  # --check: a larger difference means the rebuild is wrong, no number
MODELS = {
    "yolo_bench": ("models/bench/yolo_bench.onnx", (3, 640, 640), True),
    "ppocr_det": ("models/ppocr/ch_PP-OCRv4_det_infer.onnx", (3, 544, 960), False),
    "ppocr_rec": ("models/ppocr/ch_PP-OCRv4_rec_infer.onnx", (3, 48, 320), True),
}


def cross_check(model, path, shape, dev):
    """The rebuild's FP32 output on one random image vs ONNX Runtime's CPU provider (when the
    onnxruntime module is there) or else the NumPy executor: a note with the max relative
    difference (an independent check that the PyTorch network is the ONNX file's function)."""
    import numpy as np
    import torch
    import onnx_torch
    x = np.random.default_rng(1).random((1,) + shape, dtype=np.float32)
    try:
        ort = pc.need("onnxruntime")
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        ref, by = sess.run(None, {sess.get_inputs()[0].name: x})[0], "ONNX Runtime CPU"
    except pc.Missing:
        import onnx_numpy
        try:
            ref, by = onnx_numpy.run(model, x), "the NumPy executor"
        except ValueError as e:
            return "no cross-check (no onnxruntime module; %s)" % e, 0.0
    with torch.inference_mode():
        got = onnx_torch.OnnxNet(model).to(dev).eval()(torch.from_numpy(x).to(dev))
    got = got.float().cpu().numpy()
    rel = float(np.abs(got - ref).max() / (np.abs(ref).max() + 1e-12))
    return "rebuild vs %s: max rel diff %.2e" % (by, rel), rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="yolo_bench,ppocr_det,ppocr_rec")
    ap.add_argument("--batches", default="1,8,16", help="for the models with a batch axis")
    ap.add_argument("--precisions", default="fp32,fp16")
    ap.add_argument("--modes", default="eager,cudagraph")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    names = [m for m in args.models.split(",") if m]
    for m in names:
        if m not in MODELS:
            ap.error("unknown model %s (known: %s)" % (m, ", ".join(MODELS)))
    cpu = args.device == "cpu"
    precisions = ["fp32"] if cpu else args.precisions.split(",")
    modes = ["eager"] if cpu else args.modes.split(",")
    batches = [int(b) for b in args.batches.split(",")]

    def base(m, impl="torch-eager", **kw):
        return pc.result("model", "model/%s/%s" % (m, impl), impl, streams=None, **kw)

    missing = []
    for mod in ("numpy", "onnx", "torch"):
        try:
            pc.need(mod)
        except pc.Missing as e:
            missing.append(str(e).split(" (")[0])
    if missing:
        for m in names:
            pc.emit(base(m, notes="skipped: " + ", ".join(missing)))
        return 0
    import numpy as np
    import onnx
    import torch
    import onnx_torch
    if not cpu and not torch.cuda.is_available():
        for m in names:
            pc.emit(base(m, notes="skipped: torch sees no CUDA device (run with --device cpu)"))
        return 0
    import torch_infer_reference as tir  # the timing of bench/torch_infer_reference.py
    dev = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    rc = 0
    for m in names:
        path, shape, batched = MODELS[m]
        if not os.path.exists(path):
            pc.emit(base(m, notes="failed: %s not found (scripts/setup.sh makes it)" % path))
            rc = 1
            continue
        model = onnx.load(path)
        bad = onnx_torch.unsupported_ops(model)
        if bad:
            pc.emit(base(m, impl="torch-eager", notes="not measured: %s uses ops the PyTorch "
                         "rebuild (bench/peers/onnx_torch.py) does not have: %s; a PyTorch number "
                         "would need the original PaddlePaddle network, not this ONNX file"
                         % (path, ", ".join(bad))))
            continue
        check = ""
        if args.check:
            note, rel = cross_check(model, path, shape, dev)
            check = "; " + note
            pc.log("%s%s" % (m, check))
            if rel > MAX_REL_DIFF:
                pc.emit(base(m, notes="not measured: the PyTorch rebuild is not the ONNX file's "
                                      "function (%s > %g)" % (note, MAX_REL_DIFF)))
                rc = 1
                continue
        for p in precisions:
            net = onnx_torch.OnnxNet(model).to(dev).eval()
            if p == "fp16":
                net = net.half()
            for b in (batches if batched else [1]):
                x = torch.rand((b,) + shape, device=dev)
                x = x.half() if p == "fp16" else x
                if not cpu:  # peak memory of the steady state: after cudnn's algorithm search
                    with torch.inference_mode():
                        net(x)
                    torch.cuda.synchronize(dev)
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats(dev)
                if cpu:
                    with torch.inference_mode():
                        st = {"eager": tir.time_runs(lambda: net(x), args.warmup, args.iterations,
                                                     sync=lambda: None)}
                else:
                    st, _ = tir.bench_precision(net, x, args.warmup, args.iterations)
                    st = {"eager": st["eager"], "cudagraph": st["cuda_graph"]}
                # torch's peak allocation over the timed runs (cudnn.benchmark's search excluded;
                # the CUDA graph's pool included), not the CUDA context
                mem = round(torch.cuda.max_memory_allocated(dev) / 2 ** 20, 1) if not cpu else None
                for mode in modes:
                    s = st[mode]
                    impl = "torch-eager" if mode == "eager" else "torch-cudagraph"
                    r = base(m, impl=impl, frames=s["runs"] * b, batch=b, precision=p,
                             fps=b * 1e3 / s["mean"],
                             latency_ms={"mean": s["mean"], "p50": s["median"], "p99": s["p99"],
                                         "max": s["max"]},
                             gpu_mem_mb=mem,
                             notes="%s, input %s, torch %s on %s, cudnn.benchmark, TF32 conv %s; "
                                   "synchronous runs, %d warm-up + %d timed%s"
                                   % (path, [b] + list(shape), torch.__version__, args.device,
                                      torch.backends.cudnn.allow_tf32, args.warmup,
                                      args.iterations, check))
                    r["name"] = "model/%s/%s/%s/b%d" % (m, impl, p, b)
                    pc.emit(r)
            del net
    return rc


if __name__ == "__main__":
    sys.exit(main())
