#!/usr/bin/env python3
"""plates_loop.py - the plate peer: Python + OpenCV + ONNX Runtime's Python API on the CPU, the
pipeline of examples/plates.yaml written the way its users write it (suite "plates", impl
"python-ort-cpu"):

  cv2.VideoCapture (CPU decode) -> detection input: top-left letterbox to 960x544, BGR,
  ImageNet mean/std -> PP-OCRv4 det (ORT) -> DBNet post-processing with OpenCV (threshold 0.3,
  findContours, minAreaRect, box_score_fast >= 0.6, unclip 1.5, min height 12 px, words of one
  line merged, gap 1.2) -> every quad cut out with warpPerspective -> direction classifier
  (48x192, flip when "180" > 0.9) -> every crop resized to height 48 and padded to 48x320 (as
  the issue's author did) -> PP-OCRv4 rec (ORT, one batch per frame) -> greedy CTC -> plate
  normalisation + pattern (plates.yaml's "read" node) -> the tracker port with plates.yaml's
  thresholds and text votes -> one report per track with a text of >= 2 votes -> exact reads
  against the truth file with scripts/eval_plates.py's matching.

    taskset -c 0-7 bench/peers/plates_loop.py --video samples/plates.h264 \
        --truth samples/plates_truth.json [--streams N] [--threads T] [--frames F] [--no-cls]

N streams = N processes, each with its own capture and ORT sessions of max(1, T // N) intra-op
threads (so T threads in all, on the cores taskset gives; inter-op 1, sequential execution).
--threads default: the number of CPUs this process may use. --frames is per stream (default:
the whole clip once). One result object on stdout; quality {"exact_reads": .., "truth": ..}
summed over the streams. Without cv2/onnxruntime: the object with fps null and notes
"skipped: ..." and exit 0 (CI smoke).
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import peers_common as pc  # noqa: E402
try:
    import plates as pl  # NumPy; missing numpy is reported as a skip by main()
except ImportError:  # pragma: no cover
    pl = None

TRACK = dict(high_thresh=0.5, new_track_thresh=0.6, match_iou=0.2, min_hits=2, max_lost=15)
DET_W, DET_H = 960, 544
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def session(ort, path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def crop_quad(cv2, np, frame, quad):
    """PP-OCR's get_rotate_crop_image: the quad (clockwise from top-left) warped upright."""
    q = np.asarray(quad, np.float32)
    w = int(max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[2] - q[3])))
    h = int(max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2])))
    w, h = max(w, 1), max(h, 1)
    dst = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(q, dst)
    img = cv2.warpPerspective(frame, m, (w, h), borderMode=cv2.BORDER_REPLICATE,
                              flags=cv2.INTER_CUBIC)
    if h / w >= 1.5:
        img = np.ascontiguousarray(np.rot90(img))
    return img


def norm_batch(cv2, np, crops, height, width, max_width):
    """Crops -> [N,3,height,width] float32: aspect kept, width <= max_width, (x/255-0.5)/0.5,
    zero (grey) padding on the right, BGR kept."""
    out = np.zeros((len(crops), 3, height, width), np.float32)
    for i, c in enumerate(crops):
        h, w = c.shape[:2]
        rw = min(max_width, max(1, int(np.ceil(height * w / float(h)))))
        r = cv2.resize(c, (rw, height)).astype(np.float32)
        out[i, :, :, :rw] = ((r / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return out


def db_boxes(cv2, np, prob, sx, sy, fw, fh, thresh=0.3, box_thresh=0.6, unclip=1.5,
             min_size=3.0, min_height=12.0, merge_gap=1.2, max_candidates=1000):
    """DBNet post-processing (PP-OCR's DBPostProcess with vidgraph's filters) -> quads in frame
    pixels with their scores."""
    bitmap = (prob > thresh).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    mh, mw = prob.shape
    items = []
    for cnt in contours[:max_candidates]:
        rect = cv2.minAreaRect(cnt)
        if min(rect[1]) < min_size:
            continue
        pts = cv2.boxPoints(rect)
        x0, x1 = int(np.clip(np.floor(pts[:, 0].min()), 0, mw - 1)), \
            int(np.clip(np.ceil(pts[:, 0].max()), 0, mw - 1))
        y0, y1 = int(np.clip(np.floor(pts[:, 1].min()), 0, mh - 1)), \
            int(np.clip(np.ceil(pts[:, 1].max()), 0, mh - 1))
        mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
        cv2.fillPoly(mask, [(pts - [x0, y0]).astype(np.int32)], 1)
        score = cv2.mean(prob[y0:y1 + 1, x0:x1 + 1], mask)[0]
        if score < box_thresh:
            continue
        rect = pl.unclip_rect(rect[0], rect[1], rect[2], unclip)
        if min(rect[1]) < min_size + 2:
            continue
        q = cv2.boxPoints(rect)
        q[:, 0] = np.clip(np.rint(q[:, 0] / sx), 0, fw - 1)
        q[:, 1] = np.clip(np.rint(q[:, 1] / sy), 0, fh - 1)
        q = pl.order_clockwise(q)
        if pl._side(q, 0, 1) <= 3 or pl._side(q, 0, 3) <= 3:
            continue
        items.append({"quad": q, "score": float(score)})
    mar = lambda pts: pl.order_clockwise(cv2.boxPoints(cv2.minAreaRect(np.float32(pts))))
    items = pl.merge_lines(items, merge_gap, mar)
    return [it for it in items if max(pl._side(it["quad"], 0, 3), pl._side(it["quad"], 1, 2))
            >= min_height]


def worker(args, idx, start_evt, ready_q, out_q):
    try:
        import numpy as np
        cv2 = pc.need("cv2")
        ort = pc.need("onnxruntime")
        from tracker import Tracker
        cv2.setNumThreads(1)
        threads = max(1, args.threads // args.streams)
        det = session(ort, args.det_model, threads)
        cls = None if args.no_cls else session(ort, args.cls_model, threads)
        rec = session(ort, args.rec_model, threads)
        chars = pl.load_dict(args.dict)
        cap = cv2.VideoCapture(args.video, cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise RuntimeError("cv2.VideoCapture cannot open %s" % args.video)
        tracker = Tracker(**TRACK)
        mean = np.array(MEAN, np.float32).reshape(3, 1, 1)
        std = np.array(STD, np.float32).reshape(3, 1, 1)
        ready_q.put(idx)
        start_evt.wait()
        clock = pc.Clock()
        lat, frame_no, nboxes, nread = [], 0, 0, 0
        t_start = time.perf_counter()
        while args.frames <= 0 or frame_no < args.frames:
            t0 = clock.t = time.perf_counter()
            ok, frame = cap.read()
            if not ok:
                break
            clock.lap("decode")
            fh, fw = frame.shape[:2]
            img, (sx, sy, _, _) = pc.letterbox_np(frame, DET_W, DET_H,
                                                  lambda im, sz: cv2.resize(im, sz), 0, True)
            x = ((img.astype(np.float32).transpose(2, 0, 1) / 255.0 - mean) / std)[None]
            clock.lap("preprocess")
            prob = det.run(None, {det.get_inputs()[0].name: x.astype(np.float32)})[0][0, 0]
            clock.lap("infer")
            items = db_boxes(cv2, np, prob, sx, sy, fw, fh)
            clock.lap("post")
            texts = []
            if items:
                crops = [crop_quad(cv2, np, frame, it["quad"]) for it in items]
                if cls is not None:
                    b = norm_batch(cv2, np, crops, 48, 192, 192)
                    clock.lap("preprocess")
                    o = cls.run(None, {cls.get_inputs()[0].name: b})[0]
                    clock.lap("infer")
                    crops = [np.ascontiguousarray(c[::-1, ::-1]) if o[i, 1] > o[i, 0] and
                             o[i, 1] > 0.9 else c for i, c in enumerate(crops)]
                b = norm_batch(cv2, np, crops, 48, 320, 320)
                clock.lap("preprocess")
                probs = rec.run(None, {rec.get_inputs()[0].name: b})[0]
                clock.lap("infer")
                for i in range(len(items)):
                    t, s = pl.ctc_greedy(probs[i], chars)
                    t = pl.normalize_plate(t)
                    texts.append((t, s) if pl.accept(t, s) else ("", 0.0))
                nread += sum(1 for t in texts if t[0])
                clock.lap("post")
            boxes = np.array([[min(p[0] for p in it["quad"]), min(p[1] for p in it["quad"]),
                               max(p[0] for p in it["quad"]), max(p[1] for p in it["quad"])]
                              for it in items], np.float64).reshape(-1, 4)
            tracker.update(frame_no, boxes, [it["score"] for it in items], [0] * len(items),
                           texts)
            t1 = clock.lap("track")
            nboxes += len(items)
            lat.append((t1 - t0) * 1e3)
            frame_no += 1
        t_end = time.perf_counter()
        tracker.finish()
        reports = [dict(type="track", stream_id=idx, track_id=t["track_id"], text=t["text"],
                        confidence=t["text_score"] / t["votes"], first_frame=t["first_frame"],
                        last_frame=t["last_frame"], box=t["box"])
                   for t in tracker.ended if t["text"] and t["votes"] >= 2]
        out_q.put({"idx": idx, "frames": frame_no, "lat": lat, "stages": clock.sum,
                   "boxes": nboxes, "read": nread, "reports": reports, "t_start": t_start,
                   "t_end": t_end, "threads": threads,
                   "versions": {"ort": ort.__version__, "cv2": cv2.__version__}})
    except pc.Missing as e:
        ready_q.put(idx)
        out_q.put({"idx": idx, "skipped": str(e)})
    except Exception as e:
        ready_q.put(idx)
        out_q.put({"idx": idx, "error": "%s: %s" % (type(e).__name__, e)})


def score(truth, reports):
    """Exact reads per scripts/eval_plates.py (its loader and matcher, on our reports)."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import eval_plates
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for r in reports:
            f.write(json.dumps(r) + "\n")
        path = f.name
    try:
        plates = eval_plates.load_truth(truth)
        tracks, _, _ = eval_plates.load_events(path, None)
        res = eval_plates.evaluate(plates, tracks)
    finally:
        os.unlink(path)
    return res["exact"], res["total"], len(res["false_reports"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", default="samples/plates.h264")
    ap.add_argument("--truth", default=None, help="plates_truth.json (exact reads); optional")
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--frames", type=int, default=0, help="per stream; 0 = the whole clip")
    ap.add_argument("--device", default="cpu", help="cpu only (ONNX Runtime CPU provider)")
    ap.add_argument("--det-model", default="models/ppocr/ch_PP-OCRv4_det_infer.onnx")
    ap.add_argument("--cls-model", default="models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    ap.add_argument("--rec-model", default="models/ppocr/ch_PP-OCRv4_rec_infer.onnx")
    ap.add_argument("--dict", default="models/ppocr/ppocr_keys_v1.txt")
    ap.add_argument("--no-cls", action="store_true", help="skip the direction classifier")
    ap.add_argument("--name", default=None)
    args = ap.parse_args()
    if args.streams < 1 or args.threads < 1 or args.device != "cpu":
        ap.error("--streams and --threads must be >= 1; --device cpu only")
    r = pc.result("plates", args.name or "plates/python-ort-cpu/n%d" % args.streams,
                  "python-ort-cpu", streams=args.streams, frames=0, batch=None,
                  precision="fp32", cpus=pc.cpus_of_process())
    missing = []
    for m in ("numpy", "cv2", "onnxruntime"):
        try:
            pc.need(m)
        except pc.Missing as e:
            missing.append(str(e).split(" (")[0])
    if missing:
        r["notes"] = "skipped: " + ", ".join(missing)
        pc.emit(r)
        return 0
    for path in [args.video, args.det_model, args.rec_model, args.dict] + \
            ([] if args.no_cls else [args.cls_model]) + ([args.truth] if args.truth else []):
        if not os.path.exists(path):
            r["notes"] = "failed: %s not found" % path
            pc.emit(r)
            return 1
    ctx = mp.get_context("spawn")
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
    r.update(frames=frames, fps=frames / wall if wall > 0 and frames else None,
             latency_ms=pc.latency_summary(lat),
             stages_ms={s: sum(x["stages"][s] for x in res) / max(frames, 1) for s in pc.STAGES})
    q = {"text_boxes": sum(x["boxes"] for x in res), "reads": sum(x["read"] for x in res),
         "reports": sum(len(x["reports"]) for x in res)}
    extra = ""
    if args.truth:
        ex = [score(args.truth, x["reports"]) for x in res]
        q.update(exact_reads=sum(e[0] for e in ex), truth=sum(e[1] for e in ex))
        extra = "; false reports %d" % sum(e[2] for e in ex)
        if args.frames > 0:
            extra += " (--frames cut the clip: the truth counts every plate of it)"
    r["quality"] = q
    v = res[0]["versions"]
    r["notes"] = ("%d process(es), one stream each, %d ORT intra-op thread(s) each (CPU provider, "
                  "onnxruntime %s, OpenCV %s, cv2 threads 1), cpus %s; det 960x544, cls 48x192 "
                  "%s, rec crops padded to 48x320, one rec batch per frame; wall %.2f s%s"
                  % (args.streams, res[0]["threads"], v["ort"], v["cv2"], r["cpus"],
                     "off" if args.no_cls else "on", wall, extra))
    pc.emit(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
