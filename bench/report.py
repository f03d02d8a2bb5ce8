#!/usr/bin/env python3
"""report.py - the benchmark report: one self-contained HTML file (inline SVG charts, no script,
no network) from results documents of bench/run.sh. Standard library only.

  bench/report.py RESULTS.json... [-o bench/report.html] [--markdown FILE]

The newest document (by "started"; full runs before smoke runs) gives the charts: aggregate fps
against streams for vidgraph, the peers and the ceilings; end-to-end latency p50/p99 bars;
per-stage breakdowns; the optimisation ledger; the targets, met or missed and by how much. Every
document given is listed with its machine and commit, and every result of the newest one is in
a table with the command that produced it. Each input is validated first (bench/validate.py);
an invalid one is an error. bench/render_report.js turns the HTML into report.png (headless
chromium). --markdown also writes the ratio tables of docs/PERF.md ("Latest numbers":
vidgraph / peer and vidgraph / ceiling, each with its command) from the newest document, so
that every number there comes from a results file.
"""

import argparse
import html
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import validate  # noqa: E402

PALETTE = {"vidgraph-gpu": "#1f6fd1", "vidgraph-cpu": "#6aa2e8", "python-torch": "#d1631f",
           "python-ort-cpu": "#e8a06a", "torch-eager": "#c0392b", "torch-cudagraph": "#8e44ad",
           "ort-cuda": "#16a085", "ort-cpu": "#48c9b0", "nvdec": "#7f8c8d", "memcpy": "#7f8c8d",
           "cpu-decode": "#95a5a6"}
OTHER = ["#2c3e50", "#27ae60", "#f1c40f", "#e84393", "#00b894", "#6c5ce7"]
STAGE_COLOURS = ["#1f6fd1", "#16a085", "#d1631f", "#8e44ad", "#f1c40f", "#e84393", "#7f8c8d",
                 "#2c3e50"]


def esc(x):
    return html.escape("" if x is None else str(x), quote=True)


def colour(impl, seen):
    if impl in PALETTE:
        return PALETTE[impl]
    if impl not in seen:
        seen[impl] = OTHER[len(seen) % len(OTHER)]
    return seen[impl]


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return ("%%.%df" % nd) % v
    return str(v)


def nice_max(v):
    if v <= 0:
        return 1.0
    import math
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


# ------------------------------------------------------------------ charts
def line_chart(title, series, hlines, xlabel, ylabel, w=640, h=300):
    """series: [(label, colour, [(x, y)])]; hlines: [(label, colour, y)]. x on a log2 axis."""
    import math
    pts = [p for _, _, s in series for p in s]
    if not pts and not hlines:
        return '<p class="none">%s: nothing measured yet.</p>' % esc(title)
    xs = sorted({p[0] for p in pts}) or [1]
    ymax = nice_max(max([p[1] for p in pts] + [y for _, _, y in hlines] + [1e-9]) * 1.05)
    L, R, T, B = 64, 230, 30, 44
    pw, ph = w - L - R, h - T - B
    lx = [math.log2(x) for x in xs]
    x0, x1 = min(lx), max(lx)

    def X(x):
        return L + (pw / 2 if x1 == x0 else (math.log2(x) - x0) / (x1 - x0) * pw)

    def Y(y):
        return T + ph - y / ymax * ph

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
         'aria-label="%s">' % (w, h, esc(title)),
         '<text x="%d" y="18" class="t">%s</text>' % (L, esc(title))]
    for i in range(5):
        y = ymax * i / 4
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="g"/>' % (L, L + pw, Y(y), Y(y)))
        o.append('<text x="%d" y="%.1f" class="a" text-anchor="end">%s</text>'
                 % (L - 6, Y(y) + 4, fmt(y, 0)))
    for x in xs:
        o.append('<text x="%.1f" y="%d" class="a" text-anchor="middle">%s</text>'
                 % (X(x), T + ph + 16, x))
    o.append('<text x="%d" y="%d" class="a" text-anchor="middle">%s</text>'
             % (L + pw // 2, h - 6, esc(xlabel)))
    o.append('<text x="14" y="%d" class="a" transform="rotate(-90 14 %d)" text-anchor="middle">'
             '%s</text>' % (T + ph // 2, T + ph // 2, esc(ylabel)))
    ly = T + 4
    for label, c, y in hlines:
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="6 4" '
                 'stroke-width="1.5"/>' % (L, L + pw, Y(y), Y(y), c))
        o.append('<text x="%d" y="%d" class="l" fill="%s">- - %s (%s)</text>'
                 % (L + pw + 8, ly + 10, c, esc(label), fmt(y, 0)))
        ly += 16
    for label, c, s in series:
        s = sorted(s)
        if len(s) > 1:
            o.append('<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>'
                     % (c, " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in s)))
        for x, y in s:
            o.append('<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s: %s streams, %s fps'
                     '</title></circle>' % (X(x), Y(y), c, esc(label), x, fmt(y)))
            o.append('<text x="%.1f" y="%.1f" class="v" text-anchor="middle">%s</text>'
                     % (X(x), Y(y) - 8, fmt(y, 0)))
        o.append('<text x="%d" y="%d" class="l" fill="%s">&#9679; %s</text>'
                 % (L + pw + 8, ly + 10, c, esc(label)))
        ly += 16
    o.append("</svg>")
    return "".join(o)


def bar_chart(title, rows, unit, w=640):
    """rows: [(label, [(series label, colour, value)])] as grouped horizontal bars."""
    rows = [(lab, [b for b in bars if b[2] is not None]) for lab, bars in rows]
    rows = [r for r in rows if r[1]]
    if not rows:
        return '<p class="none">%s: nothing measured yet.</p>' % esc(title)
    vmax = nice_max(max(b[2] for _, bars in rows for b in bars) * 1.05)
    L, R, T = 250, 70, 30
    bh, gap = 13, 10
    h = T + sum(len(b) * bh + gap for _, b in rows) + 30
    pw = w - L - R
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
         'aria-label="%s">' % (w, h, esc(title)),
         '<text x="10" y="18" class="t">%s</text>' % esc(title)]
    for i in range(5):
        x = L + pw * i / 4
        o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="g"/>' % (x, x, T, h - 26))
        o.append('<text x="%.1f" y="%d" class="a" text-anchor="middle">%s</text>'
                 % (x, h - 12, fmt(vmax * i / 4, 1 if vmax < 10 else 0)))
    o.append('<text x="%d" y="%d" class="a">%s</text>' % (L + pw + 6, h - 12, esc(unit)))
    y = T
    for lab, bars in rows:
        o.append('<text x="%d" y="%.1f" class="l" text-anchor="end">%s</text>'
                 % (L - 8, y + len(bars) * bh / 2 + 4, esc(lab[:40])))
        for sl, c, v in bars:
            bw = max(1.0, v / vmax * pw)
            o.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s %s'
                     '</title></rect>' % (L, y, bw, bh - 2, c, esc(lab), esc(sl), fmt(v, 2),
                                          esc(unit)))
            o.append('<text x="%.1f" y="%d" class="v">%s %s</text>'
                     % (L + bw + 4, y + bh - 3, esc(sl), fmt(v, 1)))
            y += bh
        y += gap
    o.append("</svg>")
    return "".join(o)


def stacked_chart(title, rows, w=640):
    """rows: [(label, {stage: ms})] as stacked horizontal bars with a legend."""
    rows = [(lab, {k: v for k, v in st.items() if v}) for lab, st in rows]
    rows = [r for r in rows if r[1]]
    if not rows:
        return '<p class="none">%s: no per-stage times yet.</p>' % esc(title)
    stages = []
    for _, st in rows:
        for k in st:
            if k not in stages:
                stages.append(k)
    col = {s: STAGE_COLOURS[i % len(STAGE_COLOURS)] for i, s in enumerate(stages)}
    vmax = nice_max(max(sum(st.values()) for _, st in rows) * 1.05)
    L, R, T, bh = 250, 70, 46, 18
    h = T + len(rows) * (bh + 6) + 30
    pw = w - L - R
    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" '
         'aria-label="%s">' % (w, h, esc(title)),
         '<text x="10" y="18" class="t">%s</text>' % esc(title)]
    lx = 10
    for s in stages:
        o.append('<rect x="%d" y="26" width="10" height="10" fill="%s"/><text x="%d" y="35" '
                 'class="l">%s</text>' % (lx, col[s], lx + 14, esc(s)))
        lx += 24 + 7 * len(s)
    for i in range(5):
        x = L + pw * i / 4
        o.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="g"/>' % (x, x, T, h - 26))
        o.append('<text x="%.1f" y="%d" class="a" text-anchor="middle">%s</text>'
                 % (x, h - 12, fmt(vmax * i / 4, 2 if vmax < 1 else 1)))
    o.append('<text x="%d" y="%d" class="a">ms/frame</text>' % (L + pw + 6, h - 12))
    y = T
    for lab, st in rows:
        o.append('<text x="%d" y="%d" class="l" text-anchor="end">%s</text>'
                 % (L - 8, y + 13, esc(lab[:40])))
        x = L
        for s in stages:
            v = st.get(s)
            if not v:
                continue
            bw = v / vmax * pw
            o.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s '
                     'ms</title></rect>' % (x, y, bw, bh, col[s], esc(lab), esc(s), fmt(v, 3)))
            x += bw
        o.append('<text x="%.1f" y="%d" class="v">%s</text>' % (x + 4, y + 13,
                                                                 fmt(sum(st.values()), 2)))
        y += bh + 6
    o.append("</svg>")
    return "".join(o)


# ------------------------------------------------------------------ the page
CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#222;
max-width:1320px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:18px}
.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px;background:#fff}
table{border-collapse:collapse;font-size:12.5px}td,th{border:1px solid #e0e0e0;padding:3px 6px;
vertical-align:top;text-align:left}th{background:#f5f5f5}td.n{text-align:right;white-space:nowrap}
.met{color:#127a2e;font-weight:600}.missed{color:#b3261e;font-weight:600}.na{color:#777}
code{font-size:11.5px;color:#333;word-break:break-all}.none{color:#777;font-style:italic}
svg .t{font-weight:600;font-size:13px}svg .a{font-size:11px;fill:#555}svg .l{font-size:11.5px}
svg .v{font-size:10.5px;fill:#333}svg .g{stroke:#eee}
"""


def has_number(r):
    return r.get("fps") is not None or r.get("value") is not None


def pick_latest(docs):
    """The latest full run. Documents of the same run set (same machine GPU, same vidgraph build,
    same day: a suite split over several device calls) are combined into it: each result by
    name from the latest document that measured it, and the targets computed again over the
    union (by bench/suite.py's own rules)."""
    full = [d for d in docs if d["mode"] == "full"]
    pool = full or docs
    latest = max(pool, key=lambda d: d["started"])
    same = [d for d in pool if d is not latest and
            d["versions"].get("vidgraph") == latest["versions"].get("vidgraph") and
            d["machine"].get("gpu") == latest["machine"].get("gpu") and
            d["started"][:10] == latest["started"][:10]]
    if not same:
        return latest
    byname, order = {}, []
    for d in sorted(same + [latest], key=lambda d: d["started"]):
        for r in d["results"]:
            if r["name"] not in byname:
                order.append(r["name"])
            old = byname.get(r["name"])
            if old is None or has_number(r) or not has_number(old):
                byname[r["name"]] = r
    merged = dict(latest)
    merged["results"] = [byname[n] for n in order]
    merged["ledger"] = [x for d in sorted(same + [latest], key=lambda d: d["started"])
                        for x in d.get("ledger", [])]
    merged["combined_from"] = sorted(d["started"] for d in same + [latest])
    import suite  # noqa: E402 (only for its target rules)

    class View:
        results = merged["results"]
        ratio_why = staticmethod(suite.Bench.ratio_why)

        def find(self, name):
            return next((r for r in self.results if r["name"] == name), None)
    merged["targets"] = suite.Bench.targets(View())
    return merged


def fps_chart(doc, suite, title):
    res = [r for r in doc["results"] if r["suite"] == suite and r["fps"] and r["streams"]]
    seen, by = {}, {}
    for r in res:
        if "batch1" in r["name"]:  # ledger variants are not a series
            continue
        by.setdefault(r["impl"], []).append((r["streams"], r["fps"]))
    series = [(impl, colour(impl, seen), pts) for impl, pts in sorted(by.items())]
    hl = []
    if suite == "detection":
        nv = [r["fps"] for r in doc["results"] if r["suite"] == "ceiling" and r["fps"] and
              r["impl"] in ("nvdec", "cpu-decode")]
        if nv:
            hl.append(("decode ceiling, best", "#7f8c8d", max(nv)))
        for r in doc["results"]:
            if r["suite"] == "ceiling" and r["impl"] in ("ort-cuda", "ort-cpu") and r["fps"] \
                    and r["batch"] in (8, 1):
                hl.append(("inference ceiling b%d" % r["batch"], "#16a085", r["fps"]))
    return line_chart(title, series, hl, "streams (log scale)", "aggregate fps")


def nvdec_chart(doc):
    res = [r for r in doc["results"] if r["suite"] == "ceiling" and r["fps"] and r["streams"]
           and r["impl"] in ("nvdec", "cpu-decode")]
    seen, by = {}, {}
    for r in res:
        by.setdefault(r["impl"], []).append((r["streams"], r["fps"]))
    return line_chart("Decode-only ceiling: fps vs sessions",
                      [(k, colour(k, seen), v) for k, v in by.items()], [], "sessions",
                      "aggregate fps")


def render(docs, sources):
    doc = pick_latest(docs)
    seen = {}
    res = doc["results"]
    lat_rows = []
    for r in res:
        lat = r["latency_ms"]
        if lat and lat.get("p50") is not None and r["suite"] != "ceiling":
            c = colour(r["impl"], seen)
            lat_rows.append((r["name"], [("p50", c, lat["p50"]), ("p99", "#444", lat["p99"])]))
    stage_rows = [(r["name"], r["stages_ms"]) for r in res if r["stages_ms"]]
    plates = [(r["name"], [(r["impl"], colour(r["impl"], seen), r["fps"])]) for r in res
              if r["suite"] == "plates"]
    models = [(r["name"], [(r["impl"], colour(r["impl"], seen), r["fps"])]) for r in res
              if r["suite"] in ("model", "ceiling") and r["batch"]]
    copies = [(r["name"], [(r["impl"], colour(r["impl"], seen), r["value"])]) for r in res
              if r["suite"] == "ceiling" and r["unit"] == "GB/s"]
    m, v = doc["machine"], doc["versions"]
    out = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<title>vidgraph benchmark report</title><style>%s</style></head><body>" % CSS,
           "<h1>vidgraph benchmark report</h1>",
           '<p class="meta">%s run of %s, %s s; GPU %s (driver %s, CUDA %s); CPU %s, %s cores, '
           '%s GB; vidgraph %s, ONNX Runtime %s, torch %s, OpenCV %s, Python %s. Generated by '
           'bench/report.py from %s.</p>'
           % tuple(esc(x) for x in (doc["mode"], doc["started"], doc["duration_s"], m.get("gpu"),
                                    m.get("driver"), m.get("cuda"), m.get("cpu"), m.get("cores"),
                                    m.get("mem_gb"), v.get("vidgraph"), v.get("onnxruntime"),
                                    v.get("torch"), v.get("opencv"), v.get("python"),
                                    ", ".join(sources)))]
    if doc["mode"] == "smoke":
        out.append('<p class="missed">This is a smoke run on a CPU: it proves the suite runs, '
                   'its numbers are not performance results.</p>')
    # what was added to a document after its run (conditions, invalid rows): shown with the
    # numbers it qualifies, for the documents the charts come from
    shown = set(doc.get("combined_from") or [doc["started"]])
    for d in sorted(docs, key=lambda d: d["started"]):
        if d["started"] in shown and d.get("amended"):
            out.append('<p class="missed">Amended after the run of %s: %s</p>'
                       % (esc(d["started"]), esc(d["amended"])))
    out.append("<h2>Targets</h2>")
    out.append("<table><tr><th>target</th><th>value</th><th>required</th><th>status</th>"
               "<th>why / where the time goes</th></tr>")
    for t in doc["targets"]:
        st = {True: ("met", "met"), False: ("missed", "MISSED"), None: ("na", "not measured")}[
            t["met"]]
        out.append('<tr><td>%s</td><td class="n">%s</td><td class="n">%s</td>'
                   '<td class="%s">%s</td><td>%s</td></tr>'
                   % (esc(t["target"]), fmt(t["value"], 3), fmt(t["required"], 3), st[0], st[1],
                      esc(t["why"])))
    out.append("</table>")
    out.append("<h2>Throughput against streams</h2><div class=\"grid\">")
    out.append('<div class="card">%s</div>' % fps_chart(doc, "detection",
                                                        "Detection (N x 1080p): fps vs streams"))
    out.append('<div class="card">%s</div>' % nvdec_chart(doc))
    out.append('<div class="card">%s</div>' % bar_chart("Plate graph: aggregate fps", plates,
                                                        "fps"))
    out.append('<div class="card">%s</div>' % bar_chart(
        "Models alone / inference ceilings: images per second", models, "img/s"))
    out.append('<div class="card">%s</div>' % bar_chart("Copy ceilings", copies, "GB/s"))
    out.append("</div><h2>Latency (end to end per frame)</h2><div class=\"grid\">")
    out.append('<div class="card">%s</div>' % bar_chart("p50 (colour) and p99 (dark), ms",
                                                        lat_rows, "ms", w=900))
    out.append("</div><h2>Per-stage breakdown</h2><div class=\"grid\">")
    out.append('<div class="card">%s</div>' % stacked_chart(
        "Busy time per frame by stage (node time per call / batch)", stage_rows, w=900))
    out.append("</div><h2>Optimisation ledger</h2>")
    if doc["ledger"]:
        out.append("<table><tr><th>optimisation</th><th>off</th><th>on</th><th>effect</th></tr>")
        for e in doc["ledger"]:
            out.append("<tr><td>%s</td><td class=\"n\">%s fps</td><td class=\"n\">%s fps</td>"
                       "<td>%s</td></tr>" % (esc(e["optimisation"]), fmt(e["off"]["fps"]),
                                             fmt(e["on"]["fps"]), esc(e["effect"])))
        out.append("</table>")
    else:
        out.append('<p class="none">No ledger entries in this run.</p>')
    out.append("<h2>All results of this run</h2><table><tr><th>name</th><th>impl</th>"
               "<th>streams</th><th>frames</th><th>fps</th><th>value</th><th>p50 / p99 ms</th>"
               "<th>GPU MB</th><th>quality</th><th>command</th><th>notes</th></tr>")
    for r in res:
        lat = r["latency_ms"] or {}
        out.append("<tr><td>%s</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s / %s</td>"
                   "<td class=\"n\">%s</td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>"
                   % (esc(r["name"]), esc(r["impl"]), fmt(r["streams"]), fmt(r["frames"]),
                      fmt(r["fps"]), esc(fmt(r["value"]) + (" " + r["unit"] if r["unit"]
                                                              else "")),
                      fmt(lat.get("p50"), 2), fmt(lat.get("p99"), 2), fmt(r["gpu_mem_mb"]),
                      esc(json.dumps(r["quality"]) if r["quality"] else ""), esc(r["command"]),
                      esc(r["notes"])))
    out.append("</table>")
    if len(docs) > 1:
        out.append("<h2>Documents</h2><table><tr><th>started</th><th>mode</th><th>GPU</th>"
                   "<th>commit</th><th>results</th></tr>")
        for d in sorted(docs, key=lambda d: d["started"]):
            out.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=\"n\">%d</td>"
                       "</tr>" % (esc(d["started"]), esc(d["mode"]), esc(d["machine"].get("gpu")),
                                  esc(d["versions"].get("vidgraph")), len(d["results"])))
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)


# ------------------------------------------------------------------ PERF.md tables
def markdown(doc, source):
    """The ratio tables of docs/PERF.md from one results document."""
    res = doc["results"]

    def find(pred):
        return next((r for r in res if pred(r)), None)

    def ratio(a, b):
        return "%.2fx" % (a / b) if a and b else "-"

    m, v = doc["machine"], doc["versions"]
    out = ["Source: %s (%s run, %s; %s, driver %s; vidgraph %s, ONNX Runtime %s, torch %s)."
           % (source, doc["mode"], doc["started"], m.get("gpu"), m.get("driver"),
              v.get("vidgraph"), v.get("onnxruntime"), v.get("torch")), ""]
    out += ["| case | vidgraph fps | peer | peer fps | vidgraph / peer | p50 / p99 ms | command |",
            "| --- | ---: | --- | ---: | ---: | --- | --- |"]
    for r in res:
        if not r["impl"].startswith("vidgraph") or not r["fps"]:
            continue
        peer_impl = "python-torch" if r["suite"] in ("detection", "tiles4k") else \
            "python-ort-cpu"
        p = find(lambda x: x["suite"] == r["suite"] and x["impl"] == peer_impl and
                 x["streams"] == r["streams"] and x["fps"])
        lat = r["latency_ms"] or {}
        out.append("| %s | %.1f | %s | %s | %s | %s / %s | `%s` |" % (
            r["name"], r["fps"], peer_impl if p else "-", fmt(p and p["fps"]),
            ratio(r["fps"], p and p["fps"]), fmt(lat.get("p50"), 2), fmt(lat.get("p99"), 2),
            r["command"]))
    nv = [r for r in res if r["impl"] == "nvdec" and r["fps"]]
    inf = [r for r in res if r["suite"] == "ceiling" and r["impl"] == "ort-cuda" and r["fps"]]
    out += ["", "| case | vidgraph fps | ceiling | ceiling fps | vidgraph / ceiling | ceiling command |",
            "| --- | ---: | --- | ---: | ---: | --- |"]
    for r in res:
        if r["suite"] != "detection" or not r["impl"].startswith("vidgraph") or not r["fps"]:
            continue
        for c in ([max(nv, key=lambda x: x["fps"])] if nv else []) + \
                 [x for x in inf if x["batch"] == 8]:
            out.append("| %s | %.1f | %s | %.1f | %s | `%s` |" % (
                r["name"], r["fps"], c["name"], c["fps"], ratio(r["fps"], c["fps"]),
                c["command"]))
    out += ["", "| ceiling | value | command |", "| --- | ---: | --- |"]
    for r in res:
        if r["suite"] == "ceiling" and (r["fps"] or r["value"]):
            out.append("| %s | %s | `%s` |" % (r["name"], "%.1f fps" % r["fps"] if r["fps"]
                                                else "%.1f %s" % (r["value"], r["unit"]),
                                                r["command"]))
    out += ["", "| target | value | required | status | why |", "| --- | ---: | ---: | --- | --- |"]
    for t in doc["targets"]:
        out.append("| %s | %s | %s | %s | %s |" % (
            t["target"], fmt(t["value"], 3), fmt(t["required"], 3),
            {True: "met", False: "**missed**", None: "not measured"}[t["met"]], t["why"]))
    if doc["ledger"]:
        out += ["", "| optimisation (ledger) | off fps | on fps | effect |",
                "| --- | ---: | ---: | --- |"]
        for e in doc["ledger"]:
            out.append("| %s | %s | %s | %s |" % (e["optimisation"], fmt(e["off"]["fps"]),
                                                  fmt(e["on"]["fps"]), e["effect"]))
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(prog="bench/report.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="results documents (bench/results/*.json)")
    ap.add_argument("-o", "--out", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "report.html"))
    ap.add_argument("--markdown", default=None, help="also write PERF.md's tables here")
    a = ap.parse_args(argv)
    docs = []
    for p in a.results:
        try:
            d = json.load(open(p))
        except (OSError, ValueError) as e:
            print("report.py: %s: %s" % (p, e), file=sys.stderr)
            return 1
        errs = validate.check_doc(d)
        if errs:
            print("report.py: %s does not validate: %s" % (p, "; ".join(errs[:5])),
                  file=sys.stderr)
            return 1
        docs.append(d)
    text = render(docs, [os.path.basename(p) for p in a.results])
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, a.out)
    print("report.py: wrote %s (%d bytes, %d documents)" % (a.out, len(text), len(docs)),
          file=sys.stderr)
    if a.markdown:
        latest = pick_latest(docs)
        src = ", ".join("`%s`" % p for d, p in zip(docs, a.results)
                        if d["started"] in latest.get("combined_from", [latest["started"]]))
        with open(a.markdown, "w") as f:
            f.write(markdown(latest, src))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
