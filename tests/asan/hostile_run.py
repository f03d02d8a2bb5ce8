#!/usr/bin/python3
"""hostile_run.py - runs every case of a hostile corpus (scripts/hostile_corpus.py) through the
`vidgraph` binary (the ASan + UBSan build in CI) and checks the contract of bad input:
  - a clean exit: status 1 or 2 for "fail" cases (0 also allowed for "any" cases), never a signal;
  - within the time limit (--timeout per case);
  - one line on stderr naming the input (for failures);
  - no AddressSanitizer / LeakSanitizer / UBSan report.
Prints one line per failing case and a total; exit status 1 when any case broke the contract.
Usage: hostile_run.py --bin VIDGRAPH --corpus DIR [--jobs N] [--timeout S] [--only SUBSTR]"""
import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

GRAPH = """# minimal graph of the hostile corpus: the source, then one JSON line per frame
nodes:
  - id: video
    type: source
    params: {url: placeholder, decoder: cpu, max_frames: 30%s}
  - {id: out, type: json_sink, params: {path: frames.jsonl}}
edges: [video -> out]
"""
# Known failures of issue 15, fixed by others in parallel: (command, path fragment, why).
# Such a case is reported as KNOWN and not counted; once it passes, the runner says to remove
# its line here, so the mark cannot outlive the fix unnoticed.
# Every issue-15 case once listed here passes now; the list is empty and stays for the next one.
KNOWN = []
SANITIZER_MARKS = (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:",
                   b"UndefinedBehaviorSanitizer", b"ThreadSanitizer")


def command(c, vg, work):
    path = os.fsencode(c["path"])
    if c["cmd"] == "probe":
        return [vg, b"probe", path] + ([b"--json"] if c["extra"].get("json") else [])
    if c["cmd"] == "inspect":
        return [vg, b"models", b"inspect", path]
    if c["cmd"] == "check":
        return [vg, b"check", path]
    out = os.path.join(work, "out")
    if c["kind"] == "spec":
        return [vg, b"run", path, b"--output", out.encode(), b"--quiet"]
    params = "".join(", %s: %s" % (k, json.dumps(v)) for k, v in
                     c["extra"].get("source_params", {}).items())
    graph = os.path.join(work, "graph.yaml")
    with open(graph, "w") as f:
        f.write(GRAPH % params)
    return [vg, b"run", graph.encode(), b"--input", path, b"--output", out.encode(), b"--quiet"]


def run_case(c, vg, timeout):
    with tempfile.TemporaryDirectory(prefix="vg_hostile_") as work:
        cmd = command(c, vg, work)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=work, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = None, e.stdout or b"", e.stderr or b""
        secs = time.monotonic() - t0
        summary = os.path.join(work, "out", "summary.json")
        summary_size = os.path.getsize(summary) if os.path.exists(summary) else None
    problems = []
    if rc is None:
        problems.append("no exit within %ds" % timeout)
    elif rc < 0 or rc >= 128:
        problems.append("killed by a signal (status %d)" % rc)
    elif c["expect"] == "fail" and rc not in (1, 2):
        problems.append("exit status %d, expected 1 or 2" % rc)
    elif rc not in (0, 1, 2):
        problems.append("exit status %d" % rc)
    if any(m in out or m in err for m in SANITIZER_MARKS):
        problems.append("sanitizer report")
    if rc not in (None, 0):
        name = os.fsencode(c["name"])
        if c["cmd"] == "check":  # check prints its report (errors included) on stdout
            lines = (out + b"\n" + err).splitlines()
        else:
            lines = [ln for ln in err.splitlines() if ln.startswith(b"vidgraph")]
        if not lines:
            problems.append("no 'vidgraph ...' error line on stderr")
        elif not any(name in ln for ln in lines):
            problems.append("no error line names '%s'" % c["name"])
    if c["cmd"] == "run" and summary_size == 0:
        problems.append("empty summary.json")
    tail = b" | ".join(err.strip().splitlines()[-3:]).decode("utf-8", "replace")[:400]
    return c, rc, secs, problems, tail


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=45)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "manifest.json")) as f:
        cases = [c for c in json.load(f) if a.only in c["path"] or a.only == c["cmd"]]
    vg = os.fsencode(os.path.abspath(a.bin))
    bad, known, fixed, slowest, t0 = 0, 0, 0, (0.0, ""), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        for c, rc, secs, problems, tail in ex.map(lambda c: run_case(c, vg, a.timeout), cases):
            label = "%s %s %s" % (c["kind"], c["cmd"], os.path.relpath(c["path"], a.corpus))
            if secs > slowest[0]:
                slowest = (secs, label)
            why = next((w for cmd, frag, w in KNOWN if cmd == c["cmd"] and frag in c["path"]),
                       None)
            if why and problems:
                known += 1
                print("KNOWN: %s: %s [%s]" % (label, "; ".join(problems), why))
            elif why:
                fixed += 1
                print("FIXED: %s passes now: remove its KNOWN entry [%s]" % (label, why))
            elif problems:
                bad += 1
                print("HOSTILE FAIL: %s: %s (status %s, %.1fs)\n    stderr: %s" %
                      (label, "; ".join(problems), rc, secs, tail))
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print("hostile: %d cases, %d broke the contract, %d known (issue 15), %d known now fixed; "
          "%.0fs wall, %.0fs CPU (slowest %.1fs: %s)" % (len(cases), bad, known, fixed,
          time.monotonic() - t0, ru.ru_utime + ru.ru_stime, slowest[0], slowest[1]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
