"""Generator of the people-count example's synthetic scene and its ground truth.

Run through scripts/make_people_sample.sh [OUTDIR] [--force]. Writes into OUTDIR (default
samples/):
  people.mp4         1920x1080, 25 fps, 250 frames, H.264 High (libx264, yuv420p, no B-frames)
  people.h264        the same stream as raw Annex-B
  people_truth.json  per figure: straight path, per-frame boxes, line crossings
  .people.stamp      generator version stamp; a run with a matching stamp does nothing

Figures are light, person-shaped sprites (a head on a rounded body) walking straight paths on a
dark textured scene. Most cross the horizontal counting line y = 540 (downwards or upwards);
two walk along it without crossing. Figures never come within 12 px of each other.

Truth format (frames 0-based):
  {"video", "stream", "width", "height", "fps", "frames",
   "line": {"x1": 0, "y1": 540, "x2": 1920, "y2": 540},
   "directions": "down = from y < 540 to y >= 540 (moving down the image); up = the reverse",
   "expected_counts": {"center": {"down": D, "up": U}, "bottom_center": {...}},
   "figures": [{"id", "color", "size": [w, h], "first_frame", "last_frame",
                "full_first_frame", "full_last_frame",
                "path": {"from": [cx, cy], "to": [cx, cy]},   # box centre at first/last frame
                "crossings": [{"anchor": "center"|"bottom_center", "frame": F, "direction"}],
                "boxes": {"<frame>": [x1, y1, x2, y2]}}]}     # clipped, end exclusive
A crossing's frame is the first frame at which the anchor point is on the new side.
"""

import os
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import verify_plates  # noqa: E402

PROG = "make_people_sample"
VERSION = 1
SEED = 11
WIDTH, HEIGHT, FPS, FRAMES = 1920, 1080, 25, 250
LINE_Y = 540
OUTPUTS = ("people.mp4", "people.h264", "people_truth.json")
STAMP = ".people.stamp"
MARGIN = 12  # minimum gap between figures

# id, colour (light: luma > 150), body width, height, start frame, start of the box's top-left
# (x, y; may be outside the frame), speed per frame (x num, den), (y num, den).
FIGURES = (
    (1, "#f08a78", 60, 170, 0, (200, -170), (1, 4), (9, 1)),       # down
    (2, "#86b4ff", 70, 200, 10, (560, 1080), (-1, 5), (-8, 1)),    # up
    (3, "#9be08c", 56, 160, 30, (900, -160), (1, 3), (10, 1)),     # down
    (4, "#ffd866", 66, 190, 55, (1300, 1080), (-1, 3), (-9, 1)),   # up
    (5, "#f2a0e0", 64, 180, 80, (1660, -180), (-1, 4), (11, 1)),   # down
    (6, "#7fe3e0", 58, 165, 50, (-58, 200), (18, 1), (0, 1)),      # across, above the line
    (7, "#ffb070", 72, 210, 90, (1920, 760), (-16, 1), (1, 6)),   # across, below the line
    (8, "#e6e6e6", 62, 175, 110, (380, 1080), (1, 6), (-10, 1)),   # up
    (9, "#c8a4ff", 60, 172, 135, (1120, -172), (0, 1), (12, 1)),   # down
)


def render_figure(tmp, fid, color, w, h):
    """A person-like sprite: head disc on a rounded body, with a darker outline."""
    path = os.path.join(tmp, "fig%02d.png" % fid)
    head = round(0.62 * w)
    hx, body_top = w // 2, head - 3  # the body overlaps the head: one silhouette
    common.run([common.CONVERT, "-size", "%dx%d" % (w, h), "xc:none", "-fill", color,
                "-stroke", "#202020", "-strokewidth", "2",
                "-draw", "circle %d,%d %d,%d" % (hx, head // 2 + 1, hx, 2),
                "-draw", "roundrectangle 2,%d %d,%d %d,%d" % (body_top, w - 3, h - 3,
                                                             w // 3, w // 3),
                "-depth", "8", "-strip", "PNG32:" + path])
    box, size = common.alpha_bbox(path)
    return path, box


def position(n, m):
    k = n - m["f0"]
    return (m["x0"] + (m["sx"][0] * k) // m["sx"][1], m["y0"] + (m["sy"][0] * k) // m["sy"][1])


def ffmpeg_xy(m):
    k = "(round(t*%d)-%d)" % (FPS, m["f0"])
    return ("%d+floor(%d*%s/%d)" % (m["x0"], m["sx"][0], k, m["sx"][1]),
            "%d+floor(%d*%s/%d)" % (m["y0"], m["sy"][0], k, m["sy"][1]))


def crossings(boxes, anchor):
    """[(frame, direction)] where the anchor's side of the line changes."""
    out, prev = [], None
    for f in sorted(boxes):
        b = boxes[f]["raw"]
        y = (b[1] + b[3]) / 2.0 if anchor == "center" else float(b[3])
        side = y >= LINE_Y
        if prev is not None and side != prev:
            out.append((f, "down" if side else "up"))
        prev = side
    return out


def schedule(tmp):
    figs = []
    for fid, color, w, h, f0, (x0, y0), sx, sy in FIGURES:
        path, box = render_figure(tmp, fid, color, w, h)
        m = {"f0": f0, "x0": x0, "y0": y0, "sx": sx, "sy": sy}
        boxes, full = {}, []
        for n in range(f0, FRAMES):
            x, y = position(n, m)
            raw = [x + box[0], y + box[1], x + box[2], y + box[3]]
            c = common.clip_box(raw, WIDTH, HEIGHT)
            if c is None:
                if boxes:
                    break
                continue
            boxes[n] = {"raw": raw, "clip": c}
            if common.inside(raw, WIDTH, HEIGHT):
                full.append(n)
        if not boxes or not full:
            raise common.GenError("figure %d is never fully visible" % fid)
        last = max(boxes)
        if last >= FRAMES - 1:
            raise common.GenError("figure %d still visible at the last frame" % fid)
        figs.append({"id": fid, "color": color, "size": [box[2] - box[0], box[3] - box[1]],
                     "first_frame": min(boxes), "last_frame": last,
                     "full_first_frame": full[0], "full_last_frame": full[-1],
                     "sprite": path, "motion": m, "boxes": boxes})
    check_layout(figs)
    return figs


def check_layout(figs):
    for n in range(FRAMES):
        on = [g for g in figs if n in g["boxes"]]
        for i in range(len(on)):
            for j in range(i + 1, len(on)):
                a, b = on[i]["boxes"][n]["raw"], on[j]["boxes"][n]["raw"]
                grown = [a[0] - MARGIN, a[1] - MARGIN, a[2] + MARGIN, a[3] + MARGIN]
                if common.boxes_intersect(grown, b):
                    raise common.GenError("figures %d and %d come closer than %d px at frame %d"
                                          % (on[i]["id"], on[j]["id"], MARGIN, n))


def render_video(tmp, figs, mp4, h264):
    bg = os.path.join(tmp, "bg.png")
    common.background(bg, WIDTH + 64, HEIGHT + 40, SEED, ("#98a0a8", "#404040"),
                      (300, "#00000030"),
                      [(120, 60, 420, 300), (1500, 40, 1850, 300)])
    inputs = ["-i", bg] + [a for g in figs for a in ("-i", g["sprite"])]
    still = "loop=loop=-1:size=1:start=0,settb=1/%d,setpts=N" % FPS
    fg = ["[0:v]%s,format=gbrp,crop=%d:%d:x='trunc(n*0.2)':y='trunc(40-n*0.12)'[b0]"
          % (still, WIDTH, HEIGHT)]
    for i, g in enumerate(figs):
        x, y = ffmpeg_xy(g["motion"])
        fg.append("[%d:v]%s[s%d]" % (i + 1, still, i))
        fg.append("[b%d][s%d]overlay=x='%s':y='%s':format=gbrp:eof_action=pass:"
                  "enable='between(round(t*%d),%d,%d)'[b%d]"
                  % (i, i, x, y, FPS, g["first_frame"], g["last_frame"], i + 1))
    common.encode(inputs, ";".join(fg), "b%d" % len(figs), FRAMES, FPS, mp4, h264,
                  preset="veryfast")


def center(b):
    return [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0]


def truth(figs):
    out, counts = [], {"center": {"down": 0, "up": 0}, "bottom_center": {"down": 0, "up": 0}}
    for g in figs:
        cr = []
        for anchor in ("center", "bottom_center"):
            for f, d in crossings(g["boxes"], anchor):
                cr.append({"anchor": anchor, "frame": f, "direction": d})
                counts[anchor][d] += 1
        q = {k: g[k] for k in ("id", "color", "size", "first_frame", "last_frame",
                               "full_first_frame", "full_last_frame")}
        q["path"] = {"from": center(g["boxes"][g["first_frame"]]["raw"]),
                     "to": center(g["boxes"][g["last_frame"]]["raw"])}
        q["crossings"] = cr
        q["boxes"] = {str(n): b["clip"] for n, b in sorted(g["boxes"].items())}
        out.append(q)
    return {"generator": "scripts/make_people_sample.sh v%d" % VERSION, "seed": SEED,
            "video": OUTPUTS[0], "stream": OUTPUTS[1], "width": WIDTH, "height": HEIGHT,
            "fps": FPS, "frames": FRAMES,
            "line": {"x1": 0, "y1": LINE_Y, "x2": WIDTH, "y2": LINE_Y},
            "directions": "down = from y < %d to y >= %d (moving down the image); up = the "
                          "reverse; the crossing frame is the first frame on the new side"
                          % (LINE_Y, LINE_Y),
            "box_format": "[x1, y1, x2, y2] pixels, end exclusive, clipped to the frame",
            "expected_counts": counts, "figures": out}


def check_pixels(sample, t):
    """Figures' truth boxes against the decoded video: centre light, strips outside dark."""
    want = {}
    for g in t["figures"]:
        a, b = g["full_first_frame"], g["full_last_frame"]
        for f in (a, (a + b) // 2, b):
            want.setdefault(f, []).append(g)
    imgs = verify_plates.frames_luma(os.path.join(sample, t["video"]), WIDTH, HEIGHT,
                                     want.keys())
    problems = []
    for f, gs in sorted(want.items()):
        for g in gs:
            x1, y1, x2, y2 = g["boxes"][str(f)]
            cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
            body = verify_plates.bright(imgs[f], WIDTH, cx - 8, cy - 20, cx + 8, cy + 20)
            if body < 0.9:
                problems.append("frame %d figure %d: body not light at the box centre"
                                % (f, g["id"]))
            for a1, b1, a2, b2 in ((x1 - 7, cy - 20, x1 - 3, cy + 20),
                                   (x2 + 3, cy - 20, x2 + 7, cy + 20)):
                a1, a2 = max(a1, 0), min(a2, WIDTH)
                if a1 < a2 and verify_plates.bright(imgs[f], WIDTH, a1, b1, a2, b2) > 0.05:
                    problems.append("frame %d figure %d: light pixels just outside its box"
                                    % (f, g["id"]))
    return problems


def main(argv):
    force, outdir = False, None
    for a in argv:
        if a == "--force":
            force = True
        elif a in ("-h", "--help"):
            print("usage: scripts/make_people_sample.sh [OUTDIR] [--force]   "
                  "(OUTDIR default samples/)")
            return 0
        elif a.startswith("-") or outdir is not None:
            common.say(PROG, "unknown argument %r (usage: make_people_sample.sh [OUTDIR] "
                             "[--force])" % a)
            return 2
        else:
            outdir = a
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = outdir or os.path.join(os.path.dirname(os.path.dirname(here)), "samples")
    stamp = common.source_stamp("people", VERSION, [os.path.abspath(__file__),
                                                    os.path.join(here, "common.py"),
                                                    os.path.join(here, "verify_plates.py")])
    if not force and common.up_to_date(outdir, STAMP, stamp, OUTPUTS):
        common.say(PROG, "%s is up to date (%s); --force regenerates" % (outdir, stamp))
        return 0
    try:
        common.need_tools()
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".people-", dir=outdir) as tmp:
            figs = schedule(tmp)
            mp4, h264 = (os.path.join(tmp, o) for o in OUTPUTS[:2])
            render_video(tmp, figs, mp4, h264)
            for path in (mp4, h264):
                w, h, n = common.probe_frames(path)
                if (w, h, n) != (WIDTH, HEIGHT, FRAMES):
                    raise common.GenError("%s: %dx%d, %d frames; expected %dx%d, %d frames"
                                          % (os.path.basename(path), w, h, n, WIDTH, HEIGHT,
                                             FRAMES))
            t = truth(figs)
            problems = check_pixels(tmp, t)
            if problems:
                raise common.GenError("the video does not match its truth: %s (and %d more)"
                                      % (problems[0], len(problems) - 1))
            common.write_json(os.path.join(tmp, OUTPUTS[2]), t)
            common.publish(tmp, outdir, OUTPUTS, STAMP, stamp)
    except (common.GenError, OSError) as e:
        common.say(PROG, "FAILED: %s" % e)
        return 1
    c = t["expected_counts"]["center"]
    common.say(PROG, "wrote %s/{%s} (%d figures, %d frames, centre crossings: %d down, %d up)"
               % (outdir, ",".join(OUTPUTS), len(figs), FRAMES, c["down"], c["up"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
