#!/usr/bin/env python3
"""suite.py - the benchmark driver behind bench/run.sh (issue 13). Standard library only.

Runs the suites of bench/results' contract (bench-schema: docs/PERF.md, "The benchmark suite"):
  ceiling   device-to-device copy (bench_ceilings), NVDEC-only decode of the benchmark clip with
            1..16 sessions (bench_video_nvdec), inference-only throughput of the detector at the
            batch sizes the pipelines use (`vidgraph bench`, device-bound I/O, CUDA graph)
  model     each benchmark model alone: ONNX Runtime CUDA (vidgraph bench) and the peers'
            PyTorch eager / CUDA graph (bench/peers/model_alone.py)
  detection N x 1080p -> decode -> letterbox 640 -> YOLO-format detector -> decode + NMS ->
            tracker (bench/graphs/detection.yaml), N = 1, 4, 8, 16; the Python loop peer
  tiles4k   one 4K stream paced at 30 fps -> tiles -> detector -> fused NMS -> tracker: end-to-end
            latency p50/p99 (bench/graphs/tiles4k.yaml)
  plates    the plate graph (examples/plates.yaml minus drawing) on 1 and 8 streams of the varied
            720p sample (samples/varied.h264), GPU and CPU (the CPU
            run pinned with taskset to the cores of the Python + ONNX Runtime peer)
and writes OUT/results.json (the whole document: machine, versions, results, ledger, targets),
plus the logs and run summaries under OUT/. Each suite has a time box; a run that does not fit
the time left is recorded as skipped with the reason, never guessed. The last thing printed is
a short table.

--smoke: the CPU variant for CI (tiny clip, a few frames, GPU-only cases recorded as skipped
with the reason); no timing is asserted anywhere, only that every suite ran and the document
validates (bench/validate.py).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import validate  # noqa: E402

SUITES = ("ceiling", "model", "detection", "tiles4k", "plates")
ORDER = ("ceiling", "tiles4k", "detection", "plates", "model")  # the peers' model-alone last
CLIP_1080 = "bench/clips/bench_1080p.h264"
CLIP_4K = "bench/clips/bench_4k.h264"
SMOKE_CLIP = "tests/fixtures-gpu/h264_640x360_bframes.h264"
BENCH_MODEL = "models/bench/yolo_bench.onnx"
TEST_MODEL = "models/test/yolo_like.onnx"
PEERS = "bench/peers"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def result(suite, name, impl, **kw):
    """A result object with every key of the contract (validate.RESULT_KEYS)."""
    r = {"suite": suite, "name": name, "impl": impl, "streams": None, "frames": None,
         "fps": None, "value": None, "unit": None, "latency_ms": None, "stages_ms": {},
         "gpu_mem_mb": None, "quality": None, "batch": None, "precision": None, "cpus": None,
         "command": "", "notes": ""}
    r.update(kw)
    return r


def cmdline(cmd):
    return " ".join(shlex.quote(c) for c in cmd)


class GpuMem:
    """Samples the GPU memory used by one process (nvidia-smi, every 0.25 s) while it runs;
    peak in MB. When the process never shows up by its pid (a container's pid namespace), the
    peak of the device's used memory above what was used when it started; None without
    nvidia-smi."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, None, threading.Event()
        self.base, self.peak_dev = None, None
        self.smi = shutil.which("nvidia-smi")
        self.t = threading.Thread(target=self.loop, daemon=True)
        if self.smi:
            self.t.start()

    def query(self, what):
        return subprocess.run([self.smi, what, "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=5).stdout

    def loop(self):
        while not self.stop.is_set():
            try:
                for line in self.query("--query-compute-apps=pid,used_memory").splitlines():
                    f = [x.strip() for x in line.split(",")]
                    if len(f) == 2 and f[0] == str(self.pid) and f[1].isdigit():
                        self.peak = max(self.peak or 0, int(f[1]))
                used = self.query("--query-gpu=memory.used").split()
                if used and used[0].isdigit():
                    u = int(used[0])
                    self.base = u if self.base is None else self.base
                    self.peak_dev = max(self.peak_dev or 0, u)
            except (OSError, subprocess.SubprocessError):
                return
            self.stop.wait(0.25)

    def done(self):
        self.stop.set()
        if self.smi:
            self.t.join(timeout=12)
        if self.peak is None and self.peak_dev is not None and self.base is not None:
            return self.peak_dev - self.base or None
        return self.peak


class Bench:
    def __init__(self, args):
        self.a = args
        self.smoke = args.smoke
        self.quick = args.quick and not args.smoke
        self.out = os.path.abspath(args.out)
        os.makedirs(os.path.join(self.out, "logs"), exist_ok=True)
        self.t0 = time.monotonic()
        self.budget = args.budget if args.budget else (55 if self.smoke else 150 if self.quick
                                                       else 470)
        self.results, self.ledger, self.rows = [], [], []
        self.vg = os.environ.get("VG_BIN") or next(
            (p for p in ("build/vidgraph", "build-gpu/vidgraph") if os.access(p, os.X_OK)),
            "build/vidgraph")
        self.vg = os.path.abspath(self.vg)
        self.build = os.path.dirname(self.vg)
        cands = [os.environ.get("PEER_PY"), "/opt/torch/.venv/bin/python3",
                 "/opt/torch/.venv/bin/python"]
        self.peer_py = next((c for c in cands if c and os.access(c, os.X_OK)),
                            shutil.which("python3") or sys.executable)
        self.cpus = os.environ.get("BENCH_CPUS") or self.default_cpus()
        self.taskset = shutil.which("taskset")
        self.gpu = self.gpu_usable()
        # the smoke run uses the small test detector (the benchmark one takes ~1 s a frame on
        # a CI core); the full run says so when the benchmark detector is missing
        self.model = BENCH_MODEL if os.path.isfile(BENCH_MODEL) and not self.smoke else TEST_MODEL
        self.model_note = ("" if self.model == BENCH_MODEL else
                           "smoke run: the test detector %s" % TEST_MODEL if self.smoke else
                           "%s missing: the random-weights test detector %s was used"
                           % (BENCH_MODEL, TEST_MODEL))
        self.seq = 0

    # ------------------------------------------------------------------ helpers
    def default_cpus(self):
        n = os.cpu_count() or 1
        k = 1 if self.smoke else max(1, min(8, n // 2))
        return "0" if k == 1 else "0-%d" % (k - 1)

    def left(self):
        return self.budget - (time.monotonic() - self.t0)

    def gpu_usable(self):
        if self.smoke:
            return False
        smi = shutil.which("nvidia-smi")
        if not smi:
            return False
        try:
            return subprocess.run([smi, "-L"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    def run(self, cmd, timeout, tag, cpus=None, mem=False, env=None):
        """Runs cmd (list), stdout captured, stderr into OUT/logs/TAG.log, with env (a dict)
        added to the environment. Returns (rc, stdout, seconds, gpu_mem_mb); rc 124 when it ran
        past timeout."""
        self.seq += 1
        full = ([self.taskset, "-c", cpus] if cpus and self.taskset else []) + cmd
        logp = os.path.join(self.out, "logs", "%02d-%s.log" % (self.seq, re.sub(r"[^\w.-]", "_", tag)))
        t = time.monotonic()
        with open(logp, "w") as lf:
            lf.write("$ %s%s\n" % ("".join("%s=%s " % kv for kv in (env or {}).items()),
                                    cmdline(full)))
            lf.flush()
            try:
                p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=lf, text=True, cwd=ROOT,
                                     start_new_session=True,
                                     env=dict(os.environ, **env) if env else None)
            except OSError as e:
                lf.write("cannot start: %s\n" % e)
                return 127, "", 0.0, None
            gm = GpuMem(p.pid) if mem and self.gpu else None
            try:
                out, _ = p.communicate(timeout=max(1, timeout))
                rc = p.returncode
            except subprocess.TimeoutExpired:
                # the whole process group: a peer's worker processes must not outlive it
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    p.kill()
                out, _ = p.communicate()
                rc = 124
            peak = gm.done() if gm else None
            lf.write("\n[rc %d, %.1f s]\n" % (rc, time.monotonic() - t))
        return rc, out or "", time.monotonic() - t, peak

    def add(self, r):
        errs = validate.check_result(r, "result")
        if errs:  # a bug of this driver: say so loudly, keep the object out of the document
            log("INVALID result %s: %s" % (r.get("name"), "; ".join(errs)))
            return
        self.results.append(r)
        v = r["fps"] if r["fps"] is not None else r["value"]
        lat = r["latency_ms"] or {}
        self.rows.append((r["name"], r["impl"], "-" if v is None else "%.1f%s" % (
            v, "" if r["fps"] is not None else " " + (r["unit"] or "")),
            "-" if lat.get("p50") is None else "%.1f/%.1f" % (lat["p50"], lat["p99"]),
            (r["notes"] or "")[:60]))

    def skip(self, suite, name, impl, why, **kw):
        self.add(result(suite, name, impl, notes="skipped: " + why, **kw))

    def json_lines(self, text):
        """Every line of text that parses as a JSON object."""
        out = []
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if isinstance(o, dict):
                    out.append(o)
        return out

    # ------------------------------------------------------------------ machine and versions
    def machine(self):
        m = {"gpu": None, "driver": None, "cuda": None, "cpu": platform.processor() or None,
             "cores": os.cpu_count(), "mem_gb": None, "host": platform.node()}
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    m["cpu"] = line.split(":", 1)[1].strip()
                    break
            for line in open("/proc/meminfo"):
                if line.startswith("MemTotal:"):
                    m["mem_gb"] = round(int(line.split()[1]) / 1048576, 1)
        except OSError:
            pass
        smi = shutil.which("nvidia-smi")
        if smi:
            try:
                q = subprocess.run([smi, "--query-gpu=name,driver_version,memory.total",
                                    "--format=csv,noheader"], capture_output=True, text=True,
                                   timeout=20).stdout.strip().splitlines()
                if q:
                    f = [x.strip() for x in q[0].split(",")]
                    m["gpu"], m["driver"] = f[0], f[1]
                    m["gpus"] = len(q)
                v = subprocess.run([smi], capture_output=True, text=True, timeout=20).stdout
                c = re.search(r"CUDA Version:\s*([\d.]+)", v)
                m["cuda"] = c.group(1) if c else None
            except (OSError, subprocess.SubprocessError, IndexError):
                pass
        return m

    def versions(self):
        v = {"vidgraph": None, "onnxruntime": None, "torch": None, "opencv": None,
             "python": None, "peer_python": self.peer_py}
        rc, out, _, _ = self.run([self.vg, "version"], 30, "version")
        # the commit the binary was built from (a copy of the tree elsewhere may have another HEAD)
        m = re.search(r"commit=(\S+)", out)
        if m and m.group(1) != "unknown":
            v["vidgraph"] = m.group(1)
        else:
            try:
                v["vidgraph"] = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT,
                                               capture_output=True, text=True,
                                               timeout=10).stdout.strip() or None
            except (OSError, subprocess.SubprocessError):
                pass
        m = re.search(r"onnxruntime:\s*(\S+)", out)
        v["onnxruntime"] = m.group(1) if m else None
        if rc == 0 and v["vidgraph"] is None:
            v["vidgraph"] = out.splitlines()[0].strip() if out else None
        probe = ("import sys, json\nv = {'python': sys.version.split()[0]}\n"
                 "for k, mod in (('torch', 'torch'), ('opencv', 'cv2'), ('ort_python', "
                 "'onnxruntime')):\n"
                 "    try:\n        v[k] = __import__(mod).__version__\n"
                 "    except Exception:\n        v[k] = None\nprint(json.dumps(v))\n")
        rc, out, _, _ = self.run([self.peer_py, "-c", probe], 60, "peer-versions")
        for o in self.json_lines(out):
            v.update(o)
        return v

    # ------------------------------------------------------------------ vidgraph pipelines
    def summary_result(self, suite, name, impl, summary, cmd, streams, mem, notes, cpus=None):
        """A result from a `vidgraph run` summary.json: aggregate fps, end-to-end latency,
        per-stage per-frame means (node busy time per call / mean batch), detections."""
        nodes = {n["id"]: n for n in summary.get("nodes", [])}
        stages = {}
        for stage, ids in (("preprocess", ("pre", "tiles", "det_pre")),
                           ("infer", ("det",)), ("post", ("decode", "det_dec")),
                           ("crop", ("cls_crop", "rec_crop")), ("recognise", ("cls", "rec")),
                           ("read", ("upright", "read")), ("track", ("tracker",))):
            tot = None
            for i in ids:
                n = nodes.get(i)
                if not n or not n.get("frames"):
                    continue
                per = n["latency"]["mean_ms"] * n["calls"] / n["frames"]
                tot = (tot or 0.0) + per
            if tot is not None:
                stages[stage] = round(tot, 3)
        fl = summary.get("frame_latency")
        lat = None
        if fl and fl.get("count"):
            lat = {"mean": round(fl["mean_ms"], 3), "p50": round(fl["p50_ms"], 3),
                   "p99": round(fl["p99_ms"], 3), "max": round(fl["max_ms"], 3)}
        q = None
        det = nodes.get("decode", {}).get("detail", {}) or {}
        if "detections" in det:
            q = {"detections": det["detections"]}
        src = nodes.get("video", {}).get("detail", {}) or {}
        decs = sorted({s.get("decoder") for s in src.get("streams", []) if s.get("decoder")})
        inf = nodes.get("det", {}).get("detail", {}) or {}
        extra = ["decoder %s" % ",".join(decs) if decs else "",
                 "det on %s%s%s batch %.2f" % (inf.get("provider"),
                                               " io_binding" if inf.get("io_binding") else "",
                                               " cuda_graph" if inf.get("cuda_graph") else "",
                                               nodes.get("det", {}).get("mean_batch", 0))
                 if inf else "",
                 "frame copies to host %s" % summary.get("frame_copies_to_host"),
                 "per-stage = node busy ms per frame"]
        if summary.get("state") != "succeeded":
            extra.insert(0, "run %s: %s" % (summary.get("state"), summary.get("error", "")))
        return result(suite, name, impl, streams=streams, frames=summary.get("frames_done"),
                      fps=round(summary.get("fps", 0.0), 2) if summary.get("state") ==
                      "succeeded" else None, latency_ms=lat, stages_ms=stages, gpu_mem_mb=mem,
                      quality=q, batch=None, precision=inf.get("precision"), cpus=cpus,
                      command=cmd, notes="; ".join(x for x in [notes] + extra if x))

    def vg_run(self, suite, name, impl, graph, inputs, sets, timeout, device=None, cpus=None,
               notes="", env=None):
        outdir = os.path.join(self.out, "runs", name.replace("/", "-"))
        shutil.rmtree(outdir, ignore_errors=True)
        cmd = [self.vg, "run", graph] + [a for i in inputs for a in ("--input", i)] + \
              ["--output", outdir]
        for s in sets:
            cmd += ["--set", s]
        if device:
            cmd += ["--device", device]
        shown = "".join("%s=%s " % kv for kv in (env or {}).items()) + \
            cmdline((["taskset", "-c", cpus] if cpus else []) + ["vidgraph"] + cmd[1:])
        shown = shown.replace(outdir, "OUT")
        if self.left() < 5:
            return self.skip(suite, name, impl, "time box of the whole run used up",
                             streams=len(inputs), command=shown)
        rc, _, sec, mem = self.run(cmd, min(timeout, self.left()), name, cpus=cpus, mem=True,
                                   env=env)
        sp = os.path.join(outdir, "summary.json")
        try:
            summary = json.load(open(sp))
        except (OSError, ValueError):
            why = "timed out after %.0f s" % sec if rc == 124 else "exit %d, no summary" % rc
            return self.skip(suite, name, impl, "%s (log: %s)" % (why, "logs/"), streams=len(inputs),
                             command=shown)
        r = self.summary_result(suite, name, impl, summary, shown, len(inputs), mem, notes, cpus)
        if rc == 124:
            r["notes"] = "time box hit (%.0f s), summary of the frames done; " % sec + r["notes"]
        self.add(r)
        return r

    def peer(self, script, args, timeout, tag, suite, name, impl, cpus=None):
        """Runs a peer script of bench/peers; adds every result object it prints. None when the
        script is not there; a skipped result (with the reason) when it printed nothing."""
        path = os.path.join(PEERS, script)
        if not os.path.isfile(os.path.join(ROOT, path)):
            return None
        cmd = [self.peer_py, path] + args
        shown = cmdline((["taskset", "-c", cpus] if cpus else []) +
                        ["python3" if self.smoke else self.peer_py, path] + args)
        if self.left() < 5:
            self.skip(suite, name, impl, "time box of the whole run used up", command=shown)
            return []
        rc, out, sec, _ = self.run(cmd, min(timeout, self.left()), tag, cpus=cpus)
        objs = [o for o in self.json_lines(out) if "suite" in o and "impl" in o]
        for o in objs:
            o.setdefault("command", shown)
            if rc == 124:
                o["notes"] = ("timed out after %.0f s; " % sec) + (o.get("notes") or "")
            if any(x["name"] == o.get("name") for x in self.results):
                o["name"] = "%s/%s" % (o.get("name"), tag)
            self.add(o)
        if not objs:
            why = "timed out after %.0f s" % sec if rc == 124 else "exit %d" % rc
            self.skip(suite, name, impl, "%s printed no result (%s; log %s)"
                      % (script, why, tag), command=shown)
        return objs

    # ------------------------------------------------------------------ suites
    def suite_ceiling(self):
        # copy bandwidth (the smoke run parses the skipped cases: no GPU on CI)
        args = (["--mb", "1", "--reps", "1"] if self.smoke else
                ["--mb", "256", "--reps", "10"] if self.quick else ["--mb", "512", "--reps", "20"])
        rc, out, _, _ = self.run([os.path.join(self.build, "bench_ceilings")] + args, 60,
                                 "ceilings")
        objs = self.json_lines(out)
        for o in objs:
            self.add(o)
        if not objs:
            self.skip("ceiling", "ceiling/memcpy/d2d", "memcpy",
                      "bench_ceilings exit %d, no output" % rc,
                      command=cmdline(["bench_ceilings"] + args))
        # NVDEC-only decode (CPU decode in the smoke run: no NVDEC on the CI machine)
        clip = SMOKE_CLIP if self.smoke else CLIP_1080
        sessions = "1,2" if self.smoke else "1,8,16" if self.quick else "1,2,4,8,16"
        frames = "8" if self.smoke else "300" if self.quick else "500"
        dec = "cpu" if self.smoke else "nvdec"
        cmd = [os.path.join(self.build, "bench_video_nvdec"), clip, "--sessions", sessions,
               "--frames", frames, "--decoder", dec]
        shown = cmdline(["bench_video_nvdec"] + cmd[1:])
        rc, out, sec, _ = self.run(cmd, 25 if self.smoke else 120, "nvdec")
        objs = self.json_lines(out)
        got = False
        for o in objs:
            if o.get("skipped"):
                self.skip("ceiling", "ceiling/nvdec", "nvdec", o["skipped"], command=shown)
                got = True
            for s in o.get("results", []):
                self.add(result("ceiling", "ceiling/%s/%dx%d/s%d" % (dec, o.get("width", 0),
                                                                    o.get("height", 0),
                                                                    s["sessions"]),
                                "nvdec" if dec == "nvdec" else "cpu-decode",
                                streams=s["sessions"], frames=s["frames"],
                                fps=s["total_fps"], command=shown,
                                notes="decode only, frames released on arrival (%s); %s" % (
                                    o.get("detail", ""),
                                    "CPU decoder in the smoke run" if self.smoke else
                                    "per session %.1f fps" % s["per_session_fps"])))
                got = True
        if not got:
            self.skip("ceiling", "ceiling/nvdec", "nvdec", "bench_video_nvdec exit %d after "
                      "%.0f s, no result" % (rc, sec), command=shown)
        # inference only, at the batch sizes the pipelines use: 1 and 8 (detection, max_batch
        # 8 across streams) and 29 (one 4K frame: 7 x 4 tiles of 640 with overlap 64 + global)
        self.infer_alone("ceiling", self.model, [1] if self.smoke else [8, 29] if self.quick
                         else [1, 8, 29])

    def infer_alone(self, suite, model, batches, tag="det"):
        """`vidgraph bench` of a model: device-bound I/O + CUDA graph on the GPU; throughput in
        images/s (fps = batch x runs/s)."""
        for b in batches:
            if self.gpu:
                opts = ["--provider", "cuda", "--io-binding", "--cuda-graph", "--iterations",
                        "100" if self.quick else "200", "--warmup", "20"]
                impl = "ort-cuda"
            else:
                opts = ["--provider", "cpu", "--iterations", "2", "--warmup", "1"]
                impl = "ort-cpu"
            cmd = [self.vg, "bench", model, "--batch", str(b), "--json"] + opts
            shown = cmdline(["vidgraph"] + cmd[1:])
            name = "%s/%s/%s/b%d" % (suite, impl, os.path.basename(model).rsplit(".", 1)[0], b)
            if self.left() < 5:
                self.skip(suite, name, impl, "time box used up", batch=b, command=shown)
                continue
            rc, out, sec, _ = self.run(cmd, min(90, self.left()), "bench-%s-b%d" % (tag, b))
            try:
                j = json.loads(out)
            except ValueError:
                self.skip(suite, name, impl, "vidgraph bench exit %d, no JSON" % rc, batch=b,
                          command=shown)
                continue
            lat = j.get("latency_ms", {})
            rep = j.get("report", {})
            mem = j.get("device_mem_bytes")
            self.add(result(
                suite, name, impl, streams=1, frames=(j.get("iterations") or 0) * b,
                fps=round(j.get("throughput_per_s", 0) * b, 2),
                latency_ms={"mean": lat.get("mean"), "p50": lat.get("median"),
                            "p99": lat.get("p99"), "max": lat.get("max")},
                gpu_mem_mb=round(mem / 1048576) if mem else None, batch=b,
                precision=rep.get("precision"), command=shown,
                notes="inference only, %s; provider %s, io_binding %s, cuda_graph %s%s; latency "
                      "per batch run%s" % (model, rep.get("provider"), rep.get("io_binding"),
                                           rep.get("cuda_graph"),
                                           " (%s)" % rep["cuda_graph_reason"]
                                           if rep.get("cuda_graph_reason") else "",
                                           "; " + self.model_note if model == self.model and
                                           self.model_note else "")))

    def suite_model(self):
        models = [self.model]
        if not self.smoke:
            models += ["models/ppocr/ch_PP-OCRv4_det_infer.onnx"]
        if not self.smoke:
            for m in models[1:]:
                if os.path.isfile(m):
                    self.infer_alone("model", m, [1], tag="ppocr-det")
        if self.smoke:
            args = ["--device", "cpu", "--models", "yolo_bench", "--batches", "1",
                    "--precisions", "fp32", "--modes", "eager", "--warmup", "1",
                    "--iterations", "2"]
        else:
            args = ["--batches", "1,8", "--warmup", "10", "--iterations", "50"]
        objs = self.peer("model_alone.py", args, 40 if self.smoke else 100, "peer-model",
                         "model", "model/torch/yolo_bench", "torch-eager")
        if objs is None:
            self.skip("model", "model/torch/yolo", "torch-eager",
                      "bench/peers/model_alone.py not there (helper D's peer not landed)")

    def suite_detection(self):
        clip = SMOKE_CLIP if self.smoke else CLIP_1080
        ns = (1, 2) if self.smoke else (1, 8, 16) if self.quick else (1, 4, 8, 16)
        per = 2 if self.smoke else 150 if self.quick else 250
        dev = "cpu" if self.smoke else None
        batch = 8
        for n in ns:
            sets = ["nodes.det.params.model=" + self.model,
                    "nodes.video.params.max_frames=%d" % per,
                    "nodes.det.max_batch=%d" % min(batch, max(n, 1))]
            self.vg_run("detection", "detection/vidgraph-%s/n%d" % ("cpu" if self.smoke else
                                                                    "gpu", n),
                        "vidgraph-cpu" if self.smoke else "vidgraph-gpu",
                        "bench/graphs/detection.yaml", [clip] * n, sets,
                        40 if self.smoke else 90, device=dev, notes=self.model_note)
        # the ledger: cross-stream batching off at 8 streams (max_batch 1)
        if not self.smoke and not self.quick:
            on = next((r for r in self.results if r["name"] == "detection/vidgraph-gpu/n8"),
                      None)
            off = self.vg_run("detection", "detection/vidgraph-gpu/n8-batch1", "vidgraph-gpu",
                              "bench/graphs/detection.yaml", [clip] * 8,
                              ["nodes.det.params.model=" + self.model,
                               "nodes.video.params.max_frames=%d" % per,
                               "nodes.det.max_batch=1"], 90,
                              notes="ledger: cross-stream batching off (max_batch 1)")
            if on and off and on.get("fps") and off.get("fps"):
                self.ledger.append({"optimisation": "cross-stream batching of the detector "
                                    "(max_batch 8 vs 1), 8 x 1080p", "off": off, "on": on,
                                    "effect": "%.2fx fps" % (on["fps"] / off["fps"])})
            # CUDA graphs for the detector (one per batch bucket, as examples/plates.yaml does):
            # in the sixth session's run a batch of 8 took 4.25 ms a call inside the pipeline
            # against ~0.44 ms for the model alone with a CUDA graph (the ceiling suite)
            graph = self.vg_run("detection", "detection/vidgraph-gpu/n8-cuda-graph",
                                "vidgraph-gpu", "bench/graphs/detection.yaml", [clip] * 8,
                                ["nodes.det.params.model=" + self.model,
                                 "nodes.video.params.max_frames=%d" % per,
                                 "nodes.det.max_batch=%d" % batch,
                                 "nodes.det.params.cuda.cuda_graph=true"], 90,
                                notes="ledger: the detector's batch buckets captured in CUDA "
                                "graphs (off in bench/graphs/detection.yaml)")
            if on and graph and on.get("fps") and graph.get("fps"):
                self.ledger.append({"optimisation": "CUDA graphs for the detector's batch "
                                    "buckets, 8 x 1080p", "off": on, "on": graph,
                                    "effect": "%.2fx fps" % (graph["fps"] / on["fps"])})
            # CUDA worker threads at 16 streams (settings.cuda_streams, default 2 since the H200
            # run of 2026-12-02 16:24 UTC: 1 gave 1007 fps, 2 1836, 4 1766): one worker alone
            # serialises preprocess, model and decode of every batch
            one = next((r for r in self.results if r["name"] == "detection/vidgraph-gpu/n16"),
                       None)
            for cs in (1, 4):
                more = self.vg_run("detection", "detection/vidgraph-gpu/n16-cs%d" % cs,
                                   "vidgraph-gpu", "bench/graphs/detection.yaml", [clip] * 16,
                                   ["nodes.det.params.model=" + self.model,
                                    "nodes.video.params.max_frames=%d" % per,
                                    "nodes.det.max_batch=%d" % batch,
                                    "settings.cuda_streams=%d" % cs], 90,
                                   notes="ledger: %d CUDA worker thread%s (default 2)"
                                   % (cs, "" if cs == 1 else "s"))
                if one and more and one.get("fps") and more.get("fps"):
                    if cs == 1:
                        self.ledger.append({"optimisation": "2 CUDA worker threads (the default) "
                                            "instead of 1, 16 x 1080p", "off": more, "on": one,
                                            "effect": "%.2fx fps" % (one["fps"] / more["fps"])})
                    else:
                        self.ledger.append({"optimisation": "%d CUDA worker threads instead of "
                                            "the default 2, 16 x 1080p" % cs, "off": one,
                                            "on": more, "effect": "%.2fx fps"
                                            % (more["fps"] / one["fps"])})
            # one window of queue_size frames in flight per stream (docs/ARCHITECTURE.md,
            # backpressure) against the one shared window per source node of before
            shared = self.vg_run("detection", "detection/vidgraph-gpu/n16-shared-window",
                                 "vidgraph-gpu", "bench/graphs/detection.yaml", [clip] * 16,
                                 ["nodes.det.params.model=" + self.model,
                                  "nodes.video.params.max_frames=%d" % per,
                                  "nodes.det.max_batch=%d" % batch], 90,
                                 notes="ledger: one window of queue_size frames for all 16 "
                                 "streams (VG_SOURCE_WINDOW=shared)",
                                 env={"VG_SOURCE_WINDOW": "shared"})
            if one and shared and one.get("fps") and shared.get("fps"):
                self.ledger.append({"optimisation": "a window of frames in flight per stream "
                                    "instead of one per source node, 16 x 1080p",
                                    "off": shared, "on": one,
                                    "effect": "%.2fx fps" % (one["fps"] / shared["fps"])})
        objs = None
        for n in ((1,) if self.smoke else (8, 1) if self.quick else (1, 4, 8, 16)):
            # the same clip, model, thresholds and frames per stream as the vidgraph runs
            got = self.peer("det_loop.py", ["--video", clip, "--model", self.model, "--streams",
                                            str(n), "--frames", str(per), "--conf", "0.25",
                                            "--iou", "0.45", "--max-det", "300",
                                            "--name", "detection/python-torch/n%d" % n] +
                            (["--device", "cpu", "--warmup", "1"] if self.smoke else []),
                            40 if self.smoke else 75, "peer-det-n%d" % n, "detection",
                            "detection/python-torch/n%d" % n, "python-torch")
            objs = got if objs is None else objs + (got or [])
        if objs is None:
            self.skip("detection", "detection/python-torch", "python-torch",
                      "bench/peers/det_loop.py not there (helper D's peer not landed)")

    def suite_tiles4k(self):
        if self.smoke:
            clip, frames, dev = SMOKE_CLIP, 3, "cpu"
        else:
            clip, frames, dev = CLIP_4K, 150 if self.quick else 300, None
        sets = ["nodes.det.params.model=" + self.model,
                "nodes.video.params.max_frames=%d" % frames]
        notes = "paced at the clip's rate (30 fps for the 4K clip); latency = source release " \
                "-> tracker done"
        self.vg_run("tiles4k", "tiles4k/vidgraph-%s/realtime" % ("cpu" if self.smoke else "gpu"),
                    "vidgraph-cpu" if self.smoke else "vidgraph-gpu", "bench/graphs/tiles4k.yaml",
                    [clip], sets, 30 if self.smoke else 60, device=dev,
                    notes="; ".join(x for x in (notes, self.model_note) if x))

    def suite_plates(self):
        video = next((v for v in ("samples/varied.h264", "samples/world_plates.h264",
                                  "samples/plates.h264") if os.path.isfile(v)), None)
        if not video:
            return self.skip("plates", "plates/vidgraph", "vidgraph-gpu",
                             "no plate sample (scripts/make_sample.sh writes samples/plates.h264)")
        truth = re.sub(r"\.h264$", "_truth.json", video)
        # frames per stream (0 = the whole video): the CPU sides get a bounded number, the same
        # for vidgraph-cpu and the Python peer, pinned to the same cores
        if self.smoke:
            plan = {("cpu", 1): 2}
        else:
            plan = {("cuda", 1): 0, ("cuda", 8): 0, ("cpu", 1): 60, ("cpu", 8): 16}
        ncpu = len(self.cpu_list(self.cpus))
        graph, gnote = self.plates_graph()
        for (dev, n), per in plan.items():
            sets = ["nodes.video.params.max_frames=%d" % per] if per else []
            impl = "vidgraph-gpu" if dev == "cuda" else "vidgraph-cpu"
            cpus = self.cpus if dev == "cpu" else None
            self.vg_run("plates", "plates/%s/n%d" % (impl, n), impl, graph,
                        [video] * n, sets, 40 if self.smoke else 100, device=dev, cpus=cpus,
                        notes="video %s, %s frames per stream; %s" % (video, per or "all", gnote))
            if not per:
                self.plate_quality(truth)
        missing = False
        for n in sorted({n for (d, n) in plan if d == "cpu"}):
            per = plan[("cpu", n)]
            objs = self.peer("plates_loop.py", ["--video", video, "--truth", truth, "--streams",
                                                str(n), "--frames", str(per), "--threads",
                                                str(ncpu)], 40 if self.smoke else 100,
                             "peer-plates-n%d" % n, "plates", "plates/python-ort-cpu/n%d" % n,
                             "python-ort-cpu", cpus=self.cpus)
            missing = missing or objs is None
        if missing:
            self.skip("plates", "plates/python-ort-cpu", "python-ort-cpu",
                      "bench/peers/plates_loop.py not there (helper D's peer not landed)")

    def plates_graph(self):
        """examples/plates.yaml without its drawing and annotated video (nodes `draw`,
        `annotated` and their edges), written into OUT: the plate graph as users run it, minus
        the video encoder. Made at run time so it never drifts from the example."""
        src = "examples/plates.yaml"
        lines = open(src).read().split("\n")
        out, skip = [], False
        for line in lines:
            if line.startswith("  - id: "):
                skip = line.split()[-1] in ("draw", "annotated")
            elif skip and not line.startswith("    "):
                skip = False
            if skip or (line.startswith("  - ") and ("draw" in line or "annotated" in line)
                        and "->" in line):
                continue
            out.append(line)
        text = "\n".join(out)
        if any(x.strip() in ("- id: draw", "- id: annotated") or
               ("->" in x and ("draw" in x or "annotated" in x)) for x in out):
            return src, "examples/plates.yaml as is (the drawing could not be taken out)"
        path = os.path.join(self.out, "plates.yaml")
        with open(path, "w") as f:
            f.write("# generated by bench/suite.py from examples/plates.yaml: draw and annotated "
                    "left out\n" + text)
        return path, "examples/plates.yaml without draw/annotated"

    @staticmethod
    def cpu_list(spec):
        out = []
        for part in spec.split(","):
            a, _, b = part.partition("-")
            out += list(range(int(a), int(b or a) + 1))
        return out

    def plate_quality(self, truth):
        """Exact reads of the last plates run (stream 0, whole video) through
        scripts/eval_plates.py."""
        r = self.results[-1] if self.results else None
        if not r or r["suite"] != "plates" or r["fps"] is None or not os.path.isfile(truth):
            return
        ev = os.path.join(self.out, "runs", r["name"].replace("/", "-"), "events.jsonl")
        rc, out, _, _ = self.run([sys.executable, "scripts/eval_plates.py", "--truth", truth,
                                  "--events", ev, "--json", "--stream", "0"], 30, "eval-plates")
        for o in self.json_lines(out):
            exact, tot = o.get("exact"), o.get("total")  # scripts/eval_plates.py --json
            if isinstance(exact, int) and isinstance(tot, int):
                r["quality"] = {"exact_reads": exact, "truth": tot}
            else:
                r["notes"] += "; eval_plates: " + json.dumps(o)[:200]

    # ------------------------------------------------------------------ targets
    def find(self, name):
        return next((r for r in self.results if r["name"] == name), None)

    def targets(self):
        t = []

        def add(target, value, required, why):
            met = None if value is None or required is None else value >= required
            t.append({"target": target, "value": None if value is None else round(value, 3),
                      "required": None if required is None else round(required, 3),
                      "met": met, "why": why})

        def fps(r):
            return r["fps"] if r and r["fps"] is not None else None

        det8 = fps(self.find("detection/vidgraph-gpu/n8"))
        py8 = next((r["fps"] for r in self.results if r["suite"] == "detection" and
                    r["impl"] == "python-torch" and r["streams"] == 8 and r["fps"]), None)
        add("detection 8 streams >= 5x the Python loop", det8 / py8 if det8 and py8 else None,
            5.0, self.ratio_why(det8, py8, "Python loop at 8 streams"))
        nv = [r["fps"] for r in self.results if r["impl"] == "nvdec" and r["fps"]]
        inf = [r["fps"] for r in self.results if r["suite"] == "ceiling" and
               r["impl"] == "ort-cuda" and r["batch"] == 8 and r["fps"]]
        ceil = min(max(nv), max(inf)) if nv and inf else None
        add("detection 8 streams >= 85% of min(NVDEC ceiling, inference ceiling)",
            det8 / ceil if det8 and ceil else None, 0.85,
            "ceiling %s fps (NVDEC best %s, inference b8 %s)" % (
                ceil and round(ceil), nv and round(max(nv)), inf and round(max(inf)))
            if ceil else "a ceiling or the pipeline is missing")
        det16 = fps(self.find("detection/vidgraph-gpu/n16"))
        need16 = min(1500.0, 0.85 * max(nv)) if nv else 1500.0
        add("detection 16 x 1080p >= min(1500 fps, 85% NVDEC ceiling) (issue 12)", det16,
            need16, "fps aggregate")
        for n in (1, 8):
            g = fps(self.find("plates/vidgraph-gpu/n%d" % n))
            c = fps(self.find("plates/vidgraph-cpu/n%d" % n))
            p = next((r["fps"] for r in self.results if r["suite"] == "plates" and
                      r["impl"] == "python-ort-cpu" and r["streams"] == n and r["fps"]), None)
            add("plates GPU %d stream(s) >= 20x Python + ORT CPU" % n,
                g / p if g and p else None, 20.0, self.ratio_why(g, p, "Python + ORT CPU"))
            add("plates CPU %d stream(s) >= 1.5x Python + ORT CPU, same cores" % n,
                c / p if c and p else None, 1.5, self.ratio_why(c, p, "Python + ORT CPU"))
        add("plates GPU 1 stream >= 200 fps (issue 12)", fps(self.find("plates/vidgraph-gpu/n1")),
            200.0, "fps")
        add("plates GPU 8 streams >= 800 fps (issue 12)",
            fps(self.find("plates/vidgraph-gpu/n8")), 800.0, "fps aggregate")
        r = self.find("plates/vidgraph-gpu/n1")
        lat = r and r["latency_ms"]
        if lat:
            add("plates GPU 1 stream p99 <= 3x p50 (issue 12)", 3 * lat["p50"] / lat["p99"]
                if lat["p99"] else None, 1.0, "p50 %.1f ms, p99 %.1f ms (value = 3 p50 / p99)"
                % (lat["p50"], lat["p99"]))
        tl = self.find("tiles4k/vidgraph-gpu/realtime")
        lat = tl and tl["latency_ms"]
        p99 = lat["p99"] if lat else None
        # lower is better: value = 20 / p99 must reach 1
        add("4K tiles p99 end-to-end latency <= 20 ms at 30 fps", 20.0 / p99 if p99 else None,
            1.0, "p99 %.1f ms, p50 %.1f ms (value = 20 ms / p99; baseline 37.6 ms)"
            % (p99, lat["p50"]) if p99 else "no latency measured")
        for x in t:
            if x["met"] is False:
                x["why"] += "; missed by %.0f%%" % (100 * (1 - x["value"] / x["required"]))
        return t

    @staticmethod
    def ratio_why(a, b, peer):
        if a and b:
            return "vidgraph %.1f fps vs %s %.1f fps" % (a, peer, b)
        return "vidgraph %s, %s %s: a side is missing" % (
            None if a is None else round(a, 1), peer, None if b is None else round(b, 1))

    # ------------------------------------------------------------------ main
    def main(self):
        started = now_iso()
        only = [s for s in (self.a.only or ",".join(SUITES)).split(",") if s]
        bad = [s for s in only if s not in SUITES]
        if bad:
            log("unknown suite(s) %s; known: %s" % (",".join(bad), ",".join(SUITES)))
            return 2
        log("mode %s%s, vidgraph %s, peers' python %s, pinned cpus %s, model %s, gpu %s, "
            "budget %ds" % ("smoke" if self.smoke else "full", " (quick)" if self.quick else "",
                            self.vg, self.peer_py, self.cpus,
                            self.model, self.gpu, self.budget))
        machine = self.machine()
        versions = self.versions()
        # fixed order: cheap ceilings first, then the pipelines (most valuable), peers inside
        for s in ORDER:
            if s not in only:
                continue
            t = time.monotonic()
            try:
                getattr(self, "suite_" + s)()
            except Exception as e:  # a broken suite must not lose the others' results
                log("suite %s failed: %r" % (s, e))
                self.skip(s, "%s/driver-error" % s, "vidgraph", "driver error: %r" % e)
            log("suite %s: %.1f s" % (s, time.monotonic() - t))
            self.write(started, machine, versions)  # what is done survives a kill
        doc = self.write(started, machine, versions)
        path = os.path.join(self.out, "results.json")
        errs = validate.check_doc(doc)
        self.table(doc)
        if errs:
            log("results.json does not validate: " + "; ".join(errs[:10]))
            return 1
        log("wrote %s (%d results, %d targets)" % (path, len(self.results), len(doc["targets"])))
        return 0

    def write(self, started, machine, versions):
        doc = {"schema": 1, "mode": "smoke" if self.smoke else "full", "quick": self.quick,
               "started": started,
               "duration_s": round(time.monotonic() - self.t0, 1), "machine": machine,
               "versions": versions, "results": self.results, "ledger": self.ledger,
               "targets": self.targets()}
        path = os.path.join(self.out, "results.json")
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(path + ".tmp", path)
        return doc

    def table(self, doc):
        print("%-40s %-14s %14s %13s  %s" % ("NAME", "IMPL", "FPS|VALUE", "P50/P99 ms", "NOTES"))
        for r in self.rows:
            print("%-40s %-14s %14s %13s  %s" % r)
        for t in doc["targets"]:
            print("TARGET %-62s %-6s %s" % (t["target"][:62], {True: "met", False: "MISSED",
                                                                None: "n/a"}[t["met"]],
                                            t["why"][:80]))


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/run.sh", description="vidgraph benchmark suite")
    ap.add_argument("--smoke", action="store_true", help="CPU smoke run for CI (< 60 s)")
    ap.add_argument("--out", default=None, help="output folder (default out/bench-<mode>)")
    ap.add_argument("--only", default=None, help="comma list of suites: " + ",".join(SUITES))
    ap.add_argument("--budget", type=int, default=0, help="seconds for the whole run")
    ap.add_argument("--quick", action="store_true",
                    help="the short GPU slice (150 s): fewer sessions, batches, streams and "
                         "frames, no ledger, the Python peer at 8 and 1 streams")
    a = ap.parse_args(argv)
    if a.out is None:
        a.out = os.path.join(ROOT, "out", "bench-" + ("smoke" if a.smoke else "full"))
    os.chdir(ROOT)
    return Bench(a).main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
