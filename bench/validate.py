#!/usr/bin/env python3
"""validate.py - checks benchmark JSON against the bench/results contract (issue 13; the shape is
described in docs/PERF.md, "The benchmark suite"). Standard library only.

  bench/validate.py FILE...     each FILE is a results document (bench/results/*.json, what
                                bench/run.sh writes) or JSON lines of result objects (what a
                                peer in bench/peers/ prints); '-' reads stdin
Exit 0 when every file validates, 1 with one line per problem otherwise, 2 on usage errors.

Checked: every key present with the right type, suite and impl spelled as agreed, numbers finite
and not negative, fps null or > 0 (a measured zero is a failure, so it must say so in notes
with fps null), a latency object with mean/p50/p99/max and p50 <= p99 <= max, a ceiling carries
either fps or value+unit, a result without any number says why in notes, and in a document: the
header keys, unique names, ledger entries with off/on results and targets with met consistent
with value >= required.
"""

import json
import math
import sys

SUITES = ("detection", "tiles4k", "plates", "ceiling", "model")
RESULT_KEYS = {"suite": str, "name": str, "impl": str, "streams": (int, type(None)),
               "frames": (int, type(None)), "fps": (int, float, type(None)),
               "value": (int, float, type(None)), "unit": (str, type(None)),
               "latency_ms": (dict, type(None)), "stages_ms": dict,
               "gpu_mem_mb": (int, float, type(None)), "quality": (dict, type(None)),
               "batch": (int, type(None)), "precision": (str, type(None)),
               "cpus": (str, type(None)), "command": str, "notes": (str, type(None))}
DOC_KEYS = {"schema": int, "mode": str, "started": str, "duration_s": (int, float),
            "machine": dict, "versions": dict, "results": list, "ledger": list, "targets": list}
LAT_KEYS = ("mean", "p50", "p99", "max")


def _num_ok(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0


def _tname(t):
    ts = t if isinstance(t, tuple) else (t,)
    return "|".join("null" if x is type(None) else x.__name__ for x in ts)


def check_result(r, where):
    """Problems of one result object (list of strings; empty = valid)."""
    if not isinstance(r, dict):
        return ["%s: not an object" % where]
    errs = []
    where = "%s (%s)" % (where, r.get("name", "?"))
    for k, t in RESULT_KEYS.items():
        if k not in r:
            errs.append("%s: missing key %r" % (where, k))
        elif isinstance(r[k], bool) or not isinstance(r[k], t):
            errs.append("%s: %s is %s, expected %s" % (where, k, type(r[k]).__name__, _tname(t)))
    if errs:
        return errs
    if r["suite"] not in SUITES:
        errs.append("%s: suite %r is not one of %s" % (where, r["suite"], ", ".join(SUITES)))
    if not r["name"].strip() or not r["impl"].strip():
        errs.append("%s: empty name or impl" % where)
    for k in ("streams", "frames", "batch"):
        if r[k] is not None and r[k] < (0 if k == "frames" else 1):
            errs.append("%s: %s must be positive" % (where, k))
    for k in ("fps", "value", "gpu_mem_mb"):
        if r[k] is not None and not _num_ok(r[k]):
            errs.append("%s: %s is not a finite number >= 0" % (where, k))
    if r["fps"] is not None and r["fps"] == 0:
        errs.append("%s: fps 0: a run that did nothing has fps null and says why in notes" % where)
    if (r["value"] is None) != (r["unit"] is None):
        errs.append("%s: value and unit go together" % where)
    lat = r["latency_ms"]
    if lat is not None:
        for k in LAT_KEYS:
            if k not in lat:
                errs.append("%s: latency_ms misses %r" % (where, k))
            elif lat[k] is not None and not _num_ok(lat[k]):
                errs.append("%s: latency_ms.%s is not a finite number >= 0" % (where, k))
        v = [lat.get(k) for k in ("p50", "p99", "max")]
        if all(_num_ok(x) for x in v) and not v[0] <= v[1] + 1e-9 <= v[2] + 2e-9:
            errs.append("%s: latency_ms needs p50 <= p99 <= max (%s)" % (where, v))
    for k, v in r["stages_ms"].items():
        if v is not None and not _num_ok(v):
            errs.append("%s: stages_ms.%s is not a finite number >= 0" % (where, k))
    if r["fps"] is None and r["value"] is None and lat is None and not (r["notes"] or "").strip():
        errs.append("%s: no fps, value or latency, and no notes saying why" % where)
    if r["suite"] == "ceiling" and r["fps"] is not None and r["value"] is not None:
        errs.append("%s: a ceiling has fps or value+unit, not both" % where)
    if r["cpus"] is not None and not all(c.isdigit() or c in ",-" for c in r["cpus"]):
        errs.append("%s: cpus %r is not a taskset list" % (where, r["cpus"]))
    return errs


def check_doc(d):
    """Problems of a results document."""
    if not isinstance(d, dict):
        return ["document: not an object"]
    errs = []
    for k, t in DOC_KEYS.items():
        if k not in d:
            errs.append("document: missing key %r" % k)
        elif isinstance(d[k], bool) or not isinstance(d[k], t):
            errs.append("document: %s is %s, expected %s" % (k, type(d[k]).__name__, _tname(t)))
    if errs:
        return errs
    if d["schema"] != 1:
        errs.append("document: schema %r, this validator knows 1" % d["schema"])
    if d["mode"] not in ("full", "smoke"):
        errs.append("document: mode %r is not full or smoke" % d["mode"])
    names = set()
    for i, r in enumerate(d["results"]):
        errs += check_result(r, "results[%d]" % i)
        n = r.get("name") if isinstance(r, dict) else None
        if n in names:
            errs.append("results[%d]: duplicate name %r" % (i, n))
        names.add(n)
    for i, e in enumerate(d["ledger"]):
        w = "ledger[%d]" % i
        if not isinstance(e, dict) or not isinstance(e.get("optimisation"), str):
            errs.append("%s: needs an object with an optimisation text" % w)
            continue
        for side in ("off", "on"):
            errs += check_result(e.get(side), "%s.%s" % (w, side))
        if not isinstance(e.get("effect"), str):
            errs.append("%s: effect must be a text" % w)
    for i, t in enumerate(d["targets"]):
        w = "targets[%d]" % i
        if not isinstance(t, dict) or not isinstance(t.get("target"), str):
            errs.append("%s: needs an object with a target text" % w)
            continue
        for k in ("value", "required"):
            if t.get(k) is not None and not isinstance(t.get(k), (int, float)):
                errs.append("%s: %s must be a number or null" % (w, k))
        if t.get("met") not in (True, False, None):
            errs.append("%s: met must be true, false or null" % w)
        elif isinstance(t.get("value"), (int, float)) and isinstance(t.get("required"),
                                                                      (int, float)):
            if t["met"] != (t["value"] >= t["required"]):
                errs.append("%s: met %s does not follow from value %s vs required %s"
                            % (w, t["met"], t["value"], t["required"]))
        if not isinstance(t.get("why"), str):
            errs.append("%s: why must be a text" % w)
    return errs


def check_text(text, label):
    """A document, or JSON lines of result objects (other lines are not allowed)."""
    s = text.strip()
    if not s:
        return ["%s: empty" % label]
    try:
        d = json.loads(s)
    except ValueError:
        d = None
    if isinstance(d, dict) and ("schema" in d or "results" in d):
        return ["%s: %s" % (label, e) for e in check_doc(d)]
    if isinstance(d, dict):
        return ["%s: %s" % (label, e) for e in check_result(d, "line 1")]
    errs = []
    for i, line in enumerate(s.splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            errs.append("%s: line %d is not JSON (%s)" % (label, i, e))
            continue
        errs += ["%s: %s" % (label, x) for x in check_result(o, "line %d" % i)]
    return errs


def main(argv):
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__.split("\n\n")[1] if argv else "usage: bench/validate.py FILE...",
              file=sys.stderr)
        return 2
    bad = 0
    for path in argv:
        try:
            text = sys.stdin.read() if path == "-" else open(path).read()
        except OSError as e:
            print("%s: cannot read: %s" % (path, e))
            bad += 1
            continue
        errs = check_text(text, path)
        for e in errs:
            print(e)
        bad += bool(errs)
        if not errs:
            print("%s: ok" % path, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
