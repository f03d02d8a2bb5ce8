#!/usr/bin/env python3
"""torch_infer_reference.py - the PyTorch side of the inference benchmark (docs/PERF.md).

Rebuilds the network of an ONNX model (the generated YOLO-style detectors of
scripts/gen_test_models.py and scripts/gen_bench_models.py, or the 10-layer conv net) in PyTorch
from its initializers, node by node (bench/peers/onnx_torch.py: Conv, Sigmoid, Mul, Add, Relu,
Concat, Split, MaxPool, Reshape, Resize-nearest, Identity), and measures, on the GPU:
eager latency and CUDA-graph latency, at FP32 and FP16. Each timed run is synchronous (run, then
torch.cuda.synchronize) like `vidgraph bench`, so the numbers compare one to one.

    python3 bench/torch_infer_reference.py --model models/test/yolo_like.onnx --batch 1 \
        --warmup 50 --iterations 500

Prints one JSON object: per precision and mode min/mean/median/p90/p99 in ms, plus the torch
version, device, TF32 settings and the max relative difference between eager and graph outputs
and between FP16 and FP32 (a sanity check that the rebuilt net is the same function).
Needs torch (CUDA) and onnx; numpy comes with them.
"""
import argparse
import json
import math
import os
import sys
import time

import onnx
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from onnx_torch import OnnxNet  # noqa: E402  (the rebuild, shared with bench/peers/)


def stats(ms):
    s = sorted(ms)
    n = len(s)

    def pct(q):
        return s[min(n - 1, max(0, int(math.ceil(q * n)) - 1))]

    return {"min": s[0], "mean": sum(s) / n, "median": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
            "max": s[-1], "runs": n}


def time_runs(fn, warmup, iterations, sync=None):
    sync = sync or torch.cuda.synchronize
    for _ in range(warmup):
        fn()
    sync()
    ms = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        sync()
        ms.append((time.perf_counter() - t0) * 1e3)
    return stats(ms)


def bench_precision(net, x, warmup, iterations):
    out = {}
    with torch.inference_mode():
        eager = lambda: net(x)
        out["eager"] = time_runs(eager, warmup, iterations)
        ref = net(x).float()
        # CUDA graph: warm up on a side stream, capture one forward, replay it.
        static_x = x.clone()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                net(static_x)
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_y = net(static_x)
        out["cuda_graph"] = time_runs(graph.replay, warmup, iterations)
        graph.replay()
        torch.cuda.synchronize()
        out["graph_vs_eager_rel_diff"] = float((static_y.float() - ref).abs().max() / (ref.abs().max() + 1e-12))
        out["output_shape"] = list(static_y.shape)
    return out, ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models/test/yolo_like.onnx")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--iterations", type=int, default=500)
    ap.add_argument("--precisions", default="fp32,fp16")
    ap.add_argument("--device", default="cuda:0")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device visible to torch"}))
        return 77
    torch.backends.cudnn.benchmark = True
    model = onnx.load(args.model)
    dims = [d.dim_value if d.HasField("dim_value") else args.batch
            for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = torch.rand(dims, device=args.device)
    result = {"model": args.model, "input_shape": dims, "torch": torch.__version__,
              "device": torch.cuda.get_device_name(0),
              "tf32": {"cudnn": torch.backends.cudnn.allow_tf32, "matmul": torch.backends.cuda.matmul.allow_tf32},
              "cudnn_benchmark": True, "warmup": args.warmup, "iterations": args.iterations}
    refs = {}
    for p in args.precisions.split(","):
        if p not in ("fp32", "fp16"):
            raise SystemExit("unknown precision " + p)
        net = OnnxNet(model).to(args.device).eval()  # fresh FP32 weights for each precision
        if p == "fp16":
            net = net.half()
        r, refs[p] = bench_precision(net, x.half() if p == "fp16" else x, args.warmup, args.iterations)
        result[p] = r
        del net
    if "fp32" in refs and "fp16" in refs:
        a, b = refs["fp32"], refs["fp16"]
        result["fp16_vs_fp32_rel_diff"] = float((a - b).abs().max() / (a.abs().max() + 1e-12))
    print(json.dumps(result, indent=2))
    for p in ("fp32", "fp16"):
        if p in result:
            print("KEY: torch %s eager %.3f ms, cuda graph %.3f ms (median)" %
                  (p, result[p]["eager"]["median"], result[p]["cuda_graph"]["median"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
