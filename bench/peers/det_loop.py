#!/usr/bin/env python3
"""det_loop.py - the detection peer: the Python loop users write today, on the same clips and
the same weights as vidgraph's detection pipeline (bench/run.sh, suite "detection").

Per stream: cv2.VideoCapture on the clip (raw .h264 or .mp4, FFmpeg backend of OpenCV, CPU
decode) -> NumPy letterbox to 640x640 (cv2.resize INTER_LINEAR, pad 114, BGR->RGB, /255, HWC->CHW)
-> PyTorch on CUDA, FP16 (or FP32), the network rebuilt from models/bench/yolo_bench.onnx's
initializers (bench/peers/onnx_torch.py) -> torchvision.ops.batched_nms (class-aware) after the
confidence filter -> boxes back to frame pixels -> the tracker port (bench/peers/tracker.py, the
thresholds of examples/people_count.yaml's tracker). Frames are processed one at a time (batch 1),
as the typical loop does.

N streams = N processes (--streams N forks N workers, each with its own capture, model and CUDA
context: what users do to use more cores), started together; aggregate fps = all frames / the
wall time from the common start to the last worker's end (model load and warm-up excluded).

    bench/peers/det_loop.py --video CLIP.h264 [--streams N] [--frames F] [--device cuda|cpu]
        [--precision fp16|fp32] [--model models/bench/yolo_bench.onnx] [--conf 0.25]
        [--iou 0.45] [--warmup 10] [--name ID]

--frames is per stream; the clip is reopened when it ends (same frames again). Prints ONE result
object (bench-schema.md) on stdout, suite "detection", impl "python-torch"; logs on stderr.
Without torch/torchvision/cv2 it prints the object with fps null and notes "skipped: ..." and
exits 0 (CI smoke). --device cpu runs the same loop on the CPU in FP32 (smoke mode).
"""
import argparse
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers_common as pc  # noqa: E402

TRACK = dict(high_thresh=0.5, new_track_thresh=0.6, match_iou=0.2, min_hits=3, max_lost=30)


def open_capture(cv2, path):
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise RuntimeError("cv2.VideoCapture cannot open %s (OpenCV %s, FFmpeg backend: %s)"
                           % (path, cv2.__version__, "FFMPEG" in cv2.getBuildInformation()))
    return cap


def worker(args, idx, start_evt, ready_q, out_q):
    """One stream: load, warm up, wait for the common start, run, report."""
    try:
        import numpy as np
        cv2 = pc.need("cv2")
        torch = pc.need("torch")
        tv_ops = pc.need("torchvision.ops")
        import onnx_torch
        from tracker import Tracker, ASSIGNER
        dev = torch.device(args.device)
        half = args.precision == "fp16"
        torch.backends.cudnn.benchmark = True
        net = onnx_torch.load(args.model, dev, half)
        cap = open_capture(cv2, args.video)
        sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == "cuda" else (lambda: None)
        with torch.inference_mode():
            x = torch.zeros((1, 3, 640, 640), device=dev, dtype=torch.half if half else torch.float)
            for _ in range(args.warmup):
                net(x)
            sync()
        tracker = Tracker(**TRACK)
        ready_q.put(idx)
        start_evt.wait()
        clock = pc.Clock()
        lat, dets, frame_no, tracked = [], 0, 0, 0
        t_start = time.perf_counter()
        while frame_no < args.frames:
            t0 = clock.t = time.perf_counter()
            ok, frame = cap.read()                      # BGR uint8 HxWx3, CPU decode
            if not ok:
                cap.release()
                cap = open_capture(cv2, args.video)
                continue
            clock.lap("decode")
            h, w = frame.shape[:2]
            img, (sx, sy, px, py) = pc.letterbox_np(
                frame, 640, 640, lambda im, sz: cv2.resize(im, sz, interpolation=cv2.INTER_LINEAR))
            blob = np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1))  # BGR->RGB, CHW
            t = torch.from_numpy(blob).to(dev, non_blocking=False)
            t = (t.half() if half else t.float()).div_(255.0).unsqueeze(0)
            clock.lap("preprocess")
            with torch.inference_mode():
                out = net(t)[0]                          # [84, 8400]
            sync()
            clock.lap("infer")
            with torch.inference_mode():
                cls = out[4:]
                score, best = cls.max(dim=0)
                keep = score > args.conf
                b = out[:4, keep].float()
                boxes = torch.stack([b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2,
                                     b[1] + b[3] / 2], dim=1)
                s, c = score[keep].float(), best[keep]
                k = tv_ops.batched_nms(boxes, s, c, args.iou)[:args.max_det]
                boxes, s, c = boxes[k].cpu().numpy(), s[k].cpu().numpy(), c[k].cpu().numpy()
            boxes = pc.boxes_to_frame(boxes, sx, sy, px, py, w, h)
            clock.lap("post")
            ids = tracker.update(frame_no, boxes, s, c)
            t1 = clock.lap("track")
            tracked += sum(1 for i in ids if i >= 0)
            dets += len(s)
            lat.append((t1 - t0) * 1e3)
            frame_no += 1
        t_end = time.perf_counter()
        mem = torch.cuda.max_memory_allocated(dev) / 2 ** 20 if dev.type == "cuda" else None
        out_q.put({"idx": idx, "frames": frame_no, "lat": lat, "stages": clock.sum,
                   "dets": dets, "tracked": tracked, "t_start": t_start, "t_end": t_end,
                   "mem": mem, "assigner": ASSIGNER, "size": [w, h],
                   "versions": {"torch": torch.__version__, "cv2": cv2.__version__}})
    except pc.Missing as e:
        ready_q.put(idx)
        out_q.put({"idx": idx, "skipped": str(e)})
    except Exception as e:  # report, never hang the parent
        ready_q.put(idx)
        out_q.put({"idx": idx, "error": "%s: %s" % (type(e).__name__, e)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default="samples/people.h264")
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--frames", type=int, default=300, help="frames per stream")
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    ap.add_argument("--precision", choices=("fp16", "fp32"), default=None,
                    help="default fp16 on cuda, fp32 on cpu")
    ap.add_argument("--model", default="models/bench/yolo_bench.onnx")
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--iou", type=float, default=0.45)
    ap.add_argument("--max-det", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--name", default=None)
    args = ap.parse_args()
    if args.precision is None:
        args.precision = "fp32" if args.device == "cpu" else "fp16"
    if args.streams < 1 or args.frames < 1:
        ap.error("--streams and --frames must be >= 1")
    r = pc.result("detection", args.name or "detection/python-torch/n%d" % args.streams,
                  "python-torch", streams=args.streams, frames=0, batch=1,
                  precision=args.precision, cpus=pc.cpus_of_process())
    missing = []
    for m in ("numpy", "onnx", "torch", "torchvision", "cv2"):
        try:
            pc.need(m)
        except pc.Missing as e:
            missing.append(str(e).split(" (")[0])
    if missing:
        r["notes"] = "skipped: " + ", ".join(missing)
        pc.emit(r)
        return 0
    import torch
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        r["notes"] = "skipped: torch sees no CUDA device (run with --device cpu)"
        pc.emit(r)
        return 0
    for path, what in ((args.video, "clip"), (args.model, "model")):
        if not os.path.exists(path):
            r["notes"] = "failed: %s %s not found" % (what, path)
            pc.emit(r)
            return 1
    ctx = mp.get_context("spawn")  # a fresh CUDA context per process
    start_evt, ready_q, out_q = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(args, i, start_evt, ready_q, out_q))
             for i in range(args.streams)]
    for p in procs:
        p.start()
    try:
        pc.gather(ready_q, procs, len(procs), 600)
        start_evt.set()
        res = pc.gather(out_q, procs, len(procs), 3600)
    except RuntimeError as e:
        for p in procs:
            if p.is_alive():
                p.terminate()
        r["notes"] = "failed: %s" % e
        pc.emit(r)
        return 1
    for p in procs:
        p.join()
    bad = [x for x in res if "error" in x or "skipped" in x]
    if bad:
        r["notes"] = "; ".join(("skipped: " + x["skipped"]) if "skipped" in x
                               else "failed: stream %d: %s" % (x["idx"], x["error"]) for x in bad)
        pc.emit(r)
        return 0 if all("skipped" in x for x in bad) else 1
    frames = sum(x["frames"] for x in res)
    wall = max(x["t_end"] for x in res) - min(x["t_start"] for x in res)
    lat = [v for x in res for v in x["lat"]]
    r.update(frames=frames, fps=frames / wall if wall > 0 else None,
             latency_ms=pc.latency_summary(lat),
             stages_ms={s: sum(x["stages"][s] for x in res) / frames for s in pc.STAGES},
             gpu_mem_mb=(round(sum(x["mem"] for x in res), 1)
                         if all(x["mem"] is not None for x in res) else None),
             quality={"detections": sum(x["dets"] for x in res),
                      "tracked": sum(x["tracked"] for x in res)})
    v = res[0]["versions"]
    r["notes"] = ("%d process(es), one stream each, batch 1, %s on %s; cv2.VideoCapture CPU decode "
                  "(OpenCV %s), %dx%d; torch %s; conf %.2f, IoU %.2f class-aware "
                  "(torchvision batched_nms); tracker port, assignment by %s; gpu_mem_mb = sum "
                  "of torch max_memory_allocated (CUDA contexts not included); wall %.2f s"
                  % (args.streams, args.precision, args.device, v["cv2"], res[0]["size"][0],
                     res[0]["size"][1], v["torch"], args.conf, args.iou, res[0]["assigner"], wall))
    pc.emit(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
