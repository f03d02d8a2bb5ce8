#!/usr/bin/env python3
"""Summarise ONNX Runtime profiles (VG_ORT_PROFILE=PREFIX vidgraph run ...): per model, the run
times (mean, p50, p99, max), where the slowest runs spent their time (node kernels by provider,
the gaps between them) and the nodes that cost most.

    python3 scripts/ort_profile_summary.py PREFIX_*.json [--slowest 3] [--top 6]

A run's time is ONNX Runtime's `model_run` event. Kernel time is the sum of `*_kernel_time`
events inside that run; the rest ("outside kernels") is scheduling, memory copies between
providers, allocation and waiting for the device. Exit 1 when no file has a run."""
import argparse
import collections
import json
import sys


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[k]


def load(path):
    try:
        with open(path) as f:
            ev = json.load(f)
    except (OSError, ValueError) as e:
        print("%s: cannot read: %s" % (path, e), file=sys.stderr)
        return None
    if isinstance(ev, dict):
        ev = ev.get("traceEvents", [])
    return [e for e in ev if isinstance(e, dict)]


def summarise(path, ev, nslow, ntop):
    runs = sorted((e for e in ev if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e.get("ts", 0))
    kern = sorted((e for e in ev if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time")),
                  key=lambda e: e.get("ts", 0))
    if not runs:
        print("%s: no model_run events" % path)
        return False
    durs = [r.get("dur", 0) / 1000.0 for r in runs]
    print("== %s: %d runs, ms mean %.2f p50 %.2f p99 %.2f max %.2f (run %d)" % (
        path, len(runs), sum(durs) / len(durs), pct(durs, 50), pct(durs, 99), max(durs),
        durs.index(max(durs)) + 1))
    by_prov = collections.Counter()
    by_node = collections.Counter()
    for k in kern:
        a = k.get("args", {})
        by_prov[a.get("provider", "?")] += k.get("dur", 0)
        by_node["%s (%s, %s)" % (k["name"][:-len("_kernel_time")], a.get("op_name", "?"),
                                 a.get("provider", "?").replace("ExecutionProvider", ""))] += k.get("dur", 0)
    tot = sum(by_prov.values()) or 1
    print("   kernel time by provider: " + ", ".join(
        "%s %.1f%%" % (p.replace("ExecutionProvider", ""), 100.0 * v / tot) for p, v in by_prov.most_common()))
    print("   costliest nodes overall: " + "; ".join(
        "%s %.1f ms" % (n, v / 1000.0) for n, v in by_node.most_common(ntop)))
    order = sorted(range(len(runs)), key=lambda i: -durs[i])[:nslow]
    for i in order:
        r = runs[i]
        t0, t1 = r.get("ts", 0), r.get("ts", 0) + r.get("dur", 0)
        inside = [k for k in kern if t0 <= k.get("ts", 0) <= t1]
        kt = sum(k.get("dur", 0) for k in inside) / 1000.0
        pv = collections.Counter()
        for k in inside:
            pv[k.get("args", {}).get("provider", "?").replace("ExecutionProvider", "")] += k.get("dur", 0)
        top = sorted(inside, key=lambda k: -k.get("dur", 0))[:ntop]
        print("   slow run %d: %.2f ms, kernels %.2f ms (%s), outside kernels %.2f ms; top: %s" % (
            i + 1, durs[i], kt, ", ".join("%s %.2f" % (p, v / 1000.0) for p, v in pv.most_common()),
            durs[i] - kt, "; ".join("%s %s %.2f" % (k["name"][:-len("_kernel_time")],
                                                    k.get("args", {}).get("op_name", "?"),
                                                    k.get("dur", 0) / 1000.0) for k in top)))
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--slowest", type=int, default=3)
    ap.add_argument("--top", type=int, default=6)
    a = ap.parse_args()
    ok = False
    for p in a.files:
        ev = load(p)
        if ev is not None:
            ok = summarise(p, ev, a.slowest, a.top) or ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
