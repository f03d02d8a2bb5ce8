#!/usr/bin/env python3
"""check_results.py - checks result objects (one JSON object per line, bench-schema.md) as the
peers print them: every key present with the right type, suite/impl known, numbers finite.

    bench/peers/check_results.py FILE.jsonl [--ran]      (FILE "-" = stdin)

--ran also requires fps (or value) to be a positive number in every object: the peer really ran
(the GPU step uses it; the CI smoke, where torch is missing, does not). Prints one KEY line per
object (name, fps, latency p50/p99, quality) and exits 1 with the reason on the first bad one.
Python 3 standard library only.
"""
import json
import math
import sys

KEYS = {"suite": str, "name": str, "impl": str, "streams": (int, type(None)),
        "frames": (int, type(None)), "fps": (int, float, type(None)),
        "value": (int, float, type(None)), "unit": (str, type(None)),
        "latency_ms": (dict, type(None)), "stages_ms": dict,
        "gpu_mem_mb": (int, float, type(None)), "quality": (dict, type(None)),
        "batch": (int, type(None)), "precision": (str, type(None)), "cpus": (str, type(None)),
        "command": str, "notes": str}
SUITES = {"detection", "tiles4k", "plates", "ceiling", "model"}


def problem(r):
    """The first thing wrong with result object r, or None."""
    if not isinstance(r, dict):
        return "not a JSON object"
    for k, t in KEYS.items():
        if k not in r:
            return "key %s missing" % k
        if not isinstance(r[k], t) or isinstance(r[k], bool):
            return "key %s has type %s" % (k, type(r[k]).__name__)
    extra = set(r) - set(KEYS)
    if extra:
        return "unknown keys %s" % sorted(extra)
    if r["suite"] not in SUITES:
        return "suite %r is not one of %s" % (r["suite"], sorted(SUITES))
    if not r["name"] or not r["impl"] or not r["command"]:
        return "empty name, impl or command"
    nums = [r["fps"], r["value"], r["gpu_mem_mb"]]
    for d in (r["latency_ms"] or {}, r["stages_ms"]):
        nums += list(d.values())
    for v in nums:
        if v is not None and (not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0):
            return "number %r is not finite and >= 0" % (v,)
    if r["latency_ms"] is not None and set(r["latency_ms"]) != {"mean", "p50", "p99", "max"}:
        return "latency_ms keys %s are not mean, p50, p99, max" % sorted(r["latency_ms"])
    if r["fps"] is None and r["value"] is None and not r["notes"]:
        return "no number and no note saying why"
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    ran = "--ran" in sys.argv
    if len(args) != 1:
        sys.stderr.write("usage: check_results.py FILE.jsonl [--ran]\n")
        return 2
    f = sys.stdin if args[0] == "-" else open(args[0], encoding="utf-8")
    n = 0
    for i, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as e:
            print("FAIL: line %d is not JSON: %s" % (i, e))
            return 1
        p = problem(r)
        if p is None and ran and not ((r["fps"] or 0) > 0 or (r["value"] or 0) > 0) \
                and not r["notes"].startswith("not measured"):
            p = "no fps/value (notes: %s)" % r["notes"][:160]
        lat = r.get("latency_ms") or {} if isinstance(r, dict) else {}
        print("KEY: %s fps %s p50 %s p99 %s quality %s" % (
            r.get("name") if isinstance(r, dict) else "?",
            "%.1f" % r["fps"] if isinstance(r, dict) and isinstance(r.get("fps"), (int, float))
            else "null", "%.2f" % lat["p50"] if lat.get("p50") is not None else "-",
            "%.2f" % lat["p99"] if lat.get("p99") is not None else "-",
            json.dumps(r.get("quality")) if isinstance(r, dict) else "-"))
        if p:
            print("FAIL: line %d (%s): %s" % (i, r.get("name") if isinstance(r, dict) else "?", p))
            return 1
        n += 1
    if n == 0:
        print("FAIL: no result objects")
        return 1
    print("PASS: %d result object(s) valid%s" % (n, " and ran" if ran else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
