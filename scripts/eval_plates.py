#!/usr/bin/env python3
"""eval_plates.py - scores the plates a vidgraph run reported against the sample's ground truth.

    scripts/eval_plates.py --truth samples/plates_truth.json --events out/events.jsonl
                           [--json] [--min-rate 0.9] [--max-duplicates N] [--max-false N]
                           [--stream ID]

Reads the runtime's events (JSON lines). Lines with "type": "track" are plate reports and need
  track_id (number or string), text (string, or null = nothing read), first_frame, last_frame
  (0-based frame indices, first <= last); optional: confidence (number), stream_id, and
  boxes {"<frame>": [x1, y1, x2, y2]} or box [x1, y1, x2, y2] (+ optional box_frame) in pixels.
Every other type is counted and ignored. Blank lines are skipped.

Matching. A track is a candidate for a truth plate when its [first_frame, last_frame] overlaps
the plate's visible frames and, if the track carries boxes, one of its boxes overlaps the
plate's truth box (IoU >= 0.1; at the same frame when the frame is known, else at any frame of
the overlap). Among its candidates the track goes to the plate whose text is most similar
(difflib ratio of the normalised texts, ties: larger frame overlap); below 0.5 similarity, or
with no candidate, the track is a false report. Texts are compared after collapsing whitespace
to single spaces, trimming, and upper-casing.

Per plate: the read is the exact track if any, else the most similar one. Printed: each plate
with what was read, the exact-read rate, plates reported more than once (duplicates), false
reports and missed plates.

Exit status: 0; 1 when a --min-rate / --max-duplicates / --max-false limit is not met; 2 when
an input cannot be read or is malformed (the message names the file and line).
Python 3 standard library only.
"""

import argparse
import difflib
import json
import sys

MIN_SIMILARITY = 0.5
MIN_IOU = 0.1


class InputError(Exception):
    """Malformed or unreadable input; the message names the file and line."""


def norm(text):
    return " ".join((text or "").split()).upper()


def similarity(a, b):
    return difflib.SequenceMatcher(None, a, b).ratio()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_box(v, where):
    if not (isinstance(v, list) and len(v) == 4 and all(is_num(c) for c in v)):
        raise InputError("%s: expected a box [x1, y1, x2, y2] of numbers, got %s"
                         % (where, json.dumps(v)[:60]))
    if v[2] < v[0] or v[3] < v[1]:
        raise InputError("%s: box %s has x2 < x1 or y2 < y1" % (where, json.dumps(v)))
    return [float(c) for c in v]


def check_boxes(v, where):
    """{"<frame>": box} -> {int frame: box}."""
    if not isinstance(v, dict):
        raise InputError("%s: expected an object {\"<frame>\": [x1, y1, x2, y2]}" % where)
    out = {}
    for k, b in v.items():
        try:
            f = int(k)
        except ValueError:
            raise InputError("%s: key %r is not a frame number" % (where, k))
        out[f] = check_box(b, "%s[%s]" % (where, k))
    return out


def frame_range(obj, where):
    ff, lf = obj.get("first_frame"), obj.get("last_frame")
    for name, v in (("first_frame", ff), ("last_frame", lf)):
        if not is_int(v) or v < 0:
            raise InputError("%s: '%s' must be a non-negative integer, got %s"
                             % (where, name, json.dumps(v)))
    if ff > lf:
        raise InputError("%s: first_frame %d > last_frame %d" % (where, ff, lf))
    return ff, lf


def load_truth(path):
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror or e))
    except json.JSONDecodeError as e:
        raise InputError("%s:%d:%d: not valid JSON: %s" % (path, e.lineno, e.colno, e.msg))
    except UnicodeDecodeError as e:
        raise InputError("%s: not UTF-8 text: %s" % (path, e))
    if not isinstance(data, dict) or not isinstance(data.get("plates"), list):
        raise InputError("%s: expected an object with a 'plates' list" % path)
    if not data["plates"]:
        raise InputError("%s: 'plates' is empty" % path)
    plates = []
    for i, p in enumerate(data["plates"]):
        where = "%s: plates[%d]" % (path, i)
        if not isinstance(p, dict):
            raise InputError("%s: expected an object" % where)
        if not isinstance(p.get("text"), str) or not norm(p["text"]):
            raise InputError("%s: 'text' must be a non-empty string" % where)
        ff, lf = frame_range(p, where)
        boxes = check_boxes(p["boxes"], where + ".boxes") if "boxes" in p else {}
        plates.append({"text": norm(p["text"]), "first_frame": ff, "last_frame": lf,
                       "boxes": boxes})
    return plates


def load_events(path, stream):
    """Returns (tracks, ignored type counts, lines read)."""
    tracks, ignored, n = [], {}, 0
    try:
        fh = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError("%s: cannot read: %s" % (path, e.strerror or e))
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = "%s:%d" % (path, n)
                try:
                    ev = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError("%s: not valid JSON (%s at column %d)" % (where, e.msg, e.colno))
                if not isinstance(ev, dict):
                    raise InputError("%s: expected a JSON object, got %s" % (where, type(ev).__name__))
                if not isinstance(ev.get("type"), str):
                    raise InputError("%s: 'type' must be a string" % where)
                if ev["type"] != "track":
                    ignored[ev["type"]] = ignored.get(ev["type"], 0) + 1
                    continue
                t = parse_track(ev, where)
                if stream is not None and str(t["stream_id"]) != stream:
                    ignored["track (other stream)"] = ignored.get("track (other stream)", 0) + 1
                    continue
                tracks.append(t)
        except UnicodeDecodeError as e:
            raise InputError("%s:%d: not UTF-8 text: %s" % (path, n + 1, e))
    return tracks, ignored, n


def parse_track(ev, where):
    tid = ev.get("track_id")
    if not (is_int(tid) or isinstance(tid, str)):
        raise InputError("%s: 'track_id' must be a number or string, got %s"
                         % (where, json.dumps(tid)))
    text = ev.get("text")
    if text is not None and not isinstance(text, str):
        raise InputError("%s: 'text' must be a string or null, got %s" % (where, json.dumps(text)))
    conf = ev.get("confidence")
    if conf is not None and not is_num(conf):
        raise InputError("%s: 'confidence' must be a number, got %s" % (where, json.dumps(conf)))
    ff, lf = frame_range(ev, where)
    boxes = []  # (frame or None, box)
    if "boxes" in ev:
        boxes += sorted(check_boxes(ev["boxes"], where + ": boxes").items())
    if "box" in ev:
        bf = ev.get("box_frame")
        if bf is not None and not is_int(bf):
            raise InputError("%s: 'box_frame' must be an integer" % where)
        boxes.append((bf, check_box(ev["box"], where + ": box")))
    return {"track_id": tid, "text": norm(text), "raw_text": text, "confidence": conf,
            "first_frame": ff, "last_frame": lf, "stream_id": ev.get("stream_id"),
            "boxes": boxes, "line": where}


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def overlap(t, p):
    return min(t["last_frame"], p["last_frame"]) - max(t["first_frame"], p["first_frame"]) + 1


def spatially_compatible(t, p):
    if not t["boxes"] or not p["boxes"]:
        return True
    lo, hi = max(t["first_frame"], p["first_frame"]), min(t["last_frame"], p["last_frame"])
    for f, b in t["boxes"]:
        if f is not None:
            if f in p["boxes"] and iou(b, p["boxes"][f]) >= MIN_IOU:
                return True
        elif any(iou(b, p["boxes"][g]) >= MIN_IOU for g in range(lo, hi + 1) if g in p["boxes"]):
            return True
    return False


def evaluate(plates, tracks):
    for p in plates:
        p["tracks"] = []
    false = []
    for t in tracks:
        best = None
        for i, p in enumerate(plates):
            ov = overlap(t, p)
            if ov <= 0 or not spatially_compatible(t, p):
                continue
            key = (similarity(t["text"], p["text"]), ov)
            if best is None or key > best[0]:
                best = (key, i)
        if best is not None and best[0][0] >= MIN_SIMILARITY:
            plates[best[1]]["tracks"].append(t)
            continue
        hint = [p["text"] for p in plates if p["text"] == t["text"]]
        t["hint"] = ("text of plate %s, but not in its frames or place" % hint[0]) if hint else \
            ("nearest plate in its frames: %s" % plates[best[1]]["text"] if best else
             "no plate visible in its frames")
        false.append(t)
    rows = []
    for p in plates:
        ts = sorted(p["tracks"], key=lambda t: (t["first_frame"], str(t["track_id"])))
        read = None
        if ts:
            read = max(ts, key=lambda t: (t["text"] == p["text"], similarity(t["text"], p["text"]),
                                          t["last_frame"] - t["first_frame"],
                                          t["confidence"] or 0.0))
        if read is None:
            result = "missed"
        elif read["text"] == p["text"]:
            result = "exact"
        elif read["text"].replace(" ", "") == p["text"].replace(" ", ""):
            result = "wrong (spaces only)"
        else:
            result = "wrong"
        rows.append({"text": p["text"], "first_frame": p["first_frame"],
                     "last_frame": p["last_frame"], "read": read["text"] if read else None,
                     "confidence": read["confidence"] if read else None,
                     "tracks": [t["track_id"] for t in ts], "result": result})
    exact = sum(r["result"] == "exact" for r in rows)
    dups = [r for r in rows if len(r["tracks"]) > 1]
    ids = {}
    for t in tracks:
        k = (str(t["stream_id"]), str(t["track_id"]))
        ids[k] = ids.get(k, 0) + 1
    return {"plates": rows, "total": len(rows), "exact": exact,
            "exact_rate": exact / len(rows),
            "duplicates": len(dups), "extra_tracks": sum(len(r["tracks"]) - 1 for r in dups),
            "missed": sum(r["result"] == "missed" for r in rows),
            "wrong": sum(r["result"].startswith("wrong") for r in rows),
            "false_reports": [{"track_id": t["track_id"], "text": t["raw_text"],
                               "first_frame": t["first_frame"], "last_frame": t["last_frame"],
                               "stream_id": t["stream_id"], "why": t["hint"],
                               "line": t["line"]} for t in false],
            "tracks_total": len(tracks),
            "repeated_track_ids": sorted("%s/%s" % k for k, c in ids.items() if c > 1)}


def print_table(res, ignored, out):
    w = max(12, max(len(r["text"]) for r in res["plates"]) + 2)
    rw = max([12] + [len(r["read"] or "") + 2 for r in res["plates"]])
    out.write("%-*s %-9s %-*s %5s  %-8s %s\n" % (w, "plate", "frames", rw, "read", "conf",
                                                 "tracks", "result"))
    for r in res["plates"]:
        conf = "%.2f" % r["confidence"] if r["confidence"] is not None else "-"
        out.write("%-*s %-9s %-*s %5s  %-8s %s\n"
                  % (w, r["text"], "%d-%d" % (r["first_frame"], r["last_frame"]), rw,
                     r["read"] if r["read"] is not None else "-", conf,
                     ",".join(str(t) for t in r["tracks"]) or "-", r["result"]))
    out.write("exact reads: %d/%d = %.1f%%\n" % (res["exact"], res["total"], 100 * res["exact_rate"]))
    out.write("plates reported more than once: %d (%d extra tracks)\n"
              % (res["duplicates"], res["extra_tracks"]))
    out.write("missed plates: %d, wrong reads: %d\n" % (res["missed"], res["wrong"]))
    out.write("false reports: %d\n" % len(res["false_reports"]))
    for f in res["false_reports"]:
        out.write("  track %s %s frames %d-%d (%s)\n" % (f["track_id"], json.dumps(f["text"]),
                                                      f["first_frame"], f["last_frame"], f["why"]))
    if res["repeated_track_ids"]:
        out.write("track ids on more than one line (stream/track): %s\n"
                  % ", ".join(res["repeated_track_ids"]))
    if ignored:
        out.write("other events ignored: %s\n"
                  % ", ".join("%s=%d" % kv for kv in sorted(ignored.items())))


def main(argv):
    ap = argparse.ArgumentParser(description="Score plate reads (events.jsonl) against "
                                             "the sample's ground truth.")
    ap.add_argument("--truth", required=True, help="plates_truth.json from make_sample.sh")
    ap.add_argument("--events", required=True, help="events.jsonl written by vidgraph run")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    ap.add_argument("--min-rate", type=float, help="exit 1 when the exact-read rate (0..1) is lower")
    ap.add_argument("--max-duplicates", type=int, help="exit 1 when more plates are reported "
                                                       "more than once")
    ap.add_argument("--max-false", type=int, help="exit 1 when there are more false reports")
    ap.add_argument("--stream", help="only score tracks whose stream_id equals this")
    a = ap.parse_args(argv)
    if a.min_rate is not None and not 0.0 <= a.min_rate <= 1.0:
        print("eval_plates: --min-rate must be between 0 and 1 (e.g. 0.9), got %g" % a.min_rate,
              file=sys.stderr)
        return 2
    try:
        plates = load_truth(a.truth)
        tracks, ignored, _ = load_events(a.events, a.stream)
    except InputError as e:
        print("eval_plates: %s" % e, file=sys.stderr)
        return 2
    res = evaluate(plates, tracks)
    res["ignored_events"] = ignored
    fails = []
    if a.min_rate is not None and res["exact_rate"] < a.min_rate:
        fails.append("exact-read rate %.1f%% is below --min-rate %.1f%%"
                     % (100 * res["exact_rate"], 100 * a.min_rate))
    if a.max_duplicates is not None and res["duplicates"] > a.max_duplicates:
        fails.append("%d plates reported more than once (--max-duplicates %d)"
                     % (res["duplicates"], a.max_duplicates))
    if a.max_false is not None and len(res["false_reports"]) > a.max_false:
        fails.append("%d false reports (--max-false %d)" % (len(res["false_reports"]), a.max_false))
    res["passed"] = not fails
    res["failures"] = fails
    if a.json:
        json.dump(res, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_table(res, ignored, sys.stdout)
    for f in fails:
        print("eval_plates: FAIL: %s" % f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
