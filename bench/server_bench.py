#!/usr/bin/env python3
"""server_bench.py - `vidgraph serve` under load (python3 standard library only).

1. API latency while the live graph runs: STREAMS streams (the looping samples) flow through
   tests/integration/server/stream.yaml; 32 connections send REQUESTS GET requests each over
   keep-alive connections, rotating health / system/info / models / streams / runs / metrics.
   Prints p50/p99/max per route and overall, errors, and the streams' fps during the load.
2. SSE fan-out: CLIENTS clients on /api/events?type=stream read for SECONDS seconds; prints the
   events each received (min/median/max), and the delay from an event's server time to its
   arrival at each client (the `stream` events carry no timestamp, so arrival spread is measured
   against the first client that got the same id).

Usage: bench/server_bench.py BUILD/vidgraph [--streams 2] [--requests 200] [--clients 100]
       [--seconds 10] [--json OUT.json]"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CONF = os.path.join(ROOT, "tests/integration/server/serve.yaml")


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else 0.0


def start(binary, out):
    p = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--config", CONF, "--output-root", out],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    m = re.search(r":(\d+)$", p.stdout.readline().strip())
    return p, int(m.group(1))


def req(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=json.dumps(body) if body else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def api_load(port, requests):
    paths = ["/api/health", "/api/system/info", "/api/models", "/api/streams", "/api/runs", "/metrics"]
    lat = {p: [] for p in paths}
    errors = [0]
    lock = threading.Lock()

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(requests):
            p = paths[(k + i) % len(paths)]
            t0 = time.perf_counter()
            try:
                c.request("GET", p)
                r = c.getresponse()
                r.read()
                ok = r.status == 200
            except Exception:  # noqa: BLE001
                ok = False
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                lat[p].append(dt)
                errors[0] += not ok
        c.close()

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(32)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.time() - t0
    return lat, errors[0], wall


def sse_fanout(port, clients, seconds):
    arrivals = {}  # id -> list of arrival times
    counts = [0] * clients
    lock = threading.Lock()
    stop = time.time() + seconds

    def client(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 30)
        c.request("GET", "/api/events?type=stream")
        r = c.getresponse()
        cur = None
        while time.time() < stop:
            line = r.readline()
            if not line:
                break
            line = line.decode().strip()
            if line.startswith("id: "):
                cur = line[4:]
            elif line == "" and cur:
                now = time.perf_counter()
                with lock:
                    arrivals.setdefault(cur, []).append(now)
                    counts[k] += 1
                cur = None
        c.close()

    ts = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    spread = []
    for times in arrivals.values():
        if len(times) > 1:
            first = min(times)
            spread.extend((t - first) * 1000 for t in times)
    return counts, spread


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--streams", type=int, default=2)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    out = "/tmp/vg-server-bench"
    p, port = start(a.binary, out)
    res = {}
    try:
        for i in range(a.streams):
            req(port, "POST", "/api/streams", {"url": ["plates.mp4", "people.mp4"][i % 2], "id": "b%d" % i, "loop": True})
        time.sleep(3)
        lat, errors, wall = api_load(port, a.requests)
        streams = json.loads(req(port, "GET", "/api/streams")[1])["streams"]
        allv = [x for v in lat.values() for x in v]
        res["api"] = {"requests": len(allv), "errors": errors, "wall_s": wall, "rps": len(allv) / wall,
                      "p50_ms": pct(allv, 0.5), "p99_ms": pct(allv, 0.99), "max_ms": max(allv),
                      "routes": {k: {"p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)} for k, v in lat.items()},
                      "stream_fps": {s["id"]: s["fps"] for s in streams},
                      "stream_drops": {s["id"]: s["drops"] for s in streams}}
        print("API under load (32 connections x %d requests, %d streams live): %d requests in %.1f s "
              "(%.0f/s), %d errors, p50 %.1f ms, p99 %.1f ms, max %.1f ms" %
              (a.requests, a.streams, len(allv), wall, len(allv) / wall, errors, res["api"]["p50_ms"],
               res["api"]["p99_ms"], res["api"]["max_ms"]))
        for k, v in res["api"]["routes"].items():
            print("  %-18s p50 %7.1f ms  p99 %7.1f ms" % (k, v["p50_ms"], v["p99_ms"]))
        print("  streams during the load: fps %s, drops %s" % (res["api"]["stream_fps"], res["api"]["stream_drops"]))
        counts, spread = sse_fanout(port, a.clients, a.seconds)
        res["sse"] = {"clients": a.clients, "seconds": a.seconds, "events_min": min(counts),
                      "events_median": statistics.median(counts), "events_max": max(counts),
                      "spread_p50_ms": pct(spread, 0.5), "spread_p99_ms": pct(spread, 0.99)}
        print("SSE fan-out: %d clients for %.0f s: events per client min %d / median %d / max %d; "
              "arrival spread after the first client p50 %.1f ms, p99 %.1f ms" %
              (a.clients, a.seconds, min(counts), statistics.median(counts), max(counts),
               res["sse"]["spread_p50_ms"], res["sse"]["spread_p99_ms"]))
        m = json.loads(req(port, "GET", "/api/streams")[1])
        res["streams_after"] = m["streams"]
    finally:
        p.terminate()
        rc = p.wait(60)
        print("server exit status after SIGTERM: %s" % rc)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
