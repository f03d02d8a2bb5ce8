"""Generator of a plate sample with very different plate sizes (issue 12, stable shapes).

Run through scripts/make_varied_sample.sh [OUTDIR] [--force]. Writes into OUTDIR (default
samples/):
  varied.mp4          1280x720, 25 fps, 300 frames, H.264 High (libx264, yuv420p, no B-frames)
  varied.h264         the same stream as raw Annex-B (for the FFmpeg-less GPU build / NVDEC)
  varied_truth.json   the format of plates_truth.json (scripts/eval_plates.py reads it)
  .varied.stamp       generator version stamp; a run with a matching stamp does nothing

Why: the demo's plates are all 36..60 px text in three lanes, so the recogniser sees few crop
shapes. Here every frame has 0..8 plates (30 in all) whose plate height goes from 30 px (far
lanes, text 10 px: not expected to be readable) to 157 px (near lanes, text 72 px, long formats
rotated), so the number of crops
and their widths change from frame to frame as in a real street scene. Plates drive across
six lanes (perspective: small at the top, large at the bottom), enter and leave the frame on
both sides at different speeds, and a lane carries up to two plates at once. The background has
street-like clutter (buildings with window grids, a fence, road markings) and text-like
distractors that are not plates (signs with punctuation, lower case, symbols, stripe codes);
a distractor read as a plate counts as a false report in eval_plates.py.

Plate rendering is world_plates.render_plate (same fonts and style as the world set).
Deterministic (fixed seed); ~1 min on 2 cores. Needs what make_sample.sh needs.
"""

import os
import random
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import world_plates  # noqa: E402

PROG = "make_varied_sample"
VERSION = 1
SEED = 1207
WIDTH, HEIGHT, FPS, FRAMES = 1280, 720, 25, 300
OUTPUTS = ("varied.mp4", "varied.h264", "varied_truth.json")
STAMP = ".varied.stamp"
MAX_ON = 8  # plates visible at once at most
LANE_MAX = 2  # plates in one lane at once at most
WHITE, YELLOW, GREY, BLUEISH = world_plates.WHITE, world_plates.YELLOW, world_plates.GREY, \
    world_plates.BLUEISH
FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "DejaVuSansMono-Bold.ttf",
         "LiberationMono-Bold.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSansCondensed-Bold.ttf")
# lanes: (y centre, text heights to pick from, speed px/frame range, direction); one speed per
# lane (traffic in a lane moves together), far lanes slower on screen
LANES = (
    (70, (10, 12, 14), (13, 16), +1),
    (160, (14, 16, 20), (16, 20), -1),
    (265, (20, 24, 28), (19, 24), +1),
    (380, (28, 32, 40), (22, 28), -1),
    (505, (40, 48, 56), (26, 32), +1),
    (640, (56, 64, 72), (30, 36), -1),
)
# letters without I, O, Q (they read as 1 and 0 on many plates)
LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
FORMATS = ("LLdd LLL", "dLLLddd", "LL-ddd-LL", "LLL ddd", "dd-LLL-d", "LLdddd", "L ddd LLL",
           "LLL-dddd", "dddd LLL", "LL dd LL dddd")
# text-like distractors that the plate pattern rejects: (text, x, y, pointsize, fill, box)
DISTRACTORS = (
    ("P+R 200m", 40, 205, 22, "#e8e8e8", "#1c4a8c"),
    ("Tel. 0800/55 12", 560, 30, 20, "#202020", "#d8d2c0"),
    ("Cafe & Bar", 980, 215, 26, "#f0e0a0", "#5a2a20"),
    ("Str. 12/4", 300, 325, 18, "#ffffff", "#2a6a3a"),
    ("<- A7 / B3", 760, 440, 24, "#ffffff", "#1c4a8c"),
    ("50% OFF!", 1080, 330, 30, "#ff3030", "#f4f4f0"),
    ("open 9-18h", 120, 450, 20, "#101010", "#e8e4d8"),
)


def plate_text(rng):
    fmt = rng.choice(FORMATS)
    return "".join(rng.choice(LETTERS) if c == "L" else str(rng.randrange(10)) if c == "d"
                   else c for c in fmt)


def schedule(tmp):
    """Plates spawn lane by lane in time order (lanes visited in a seeded order each frame), at
    the lane's speed, after a random gap; a plate that would overlap another one at any frame,
    make more than MAX_ON visible or a lane carry more than LANE_MAX, waits a few frames.
    Returns the plates with their per-frame boxes."""
    rng = random.Random(SEED)
    speeds = [rng.randint(vmin, vmax) for (_, _, (vmin, vmax), _) in LANES]
    nxt = [rng.randrange(2, 20) for _ in LANES]
    pending = [None] * len(LANES)
    plates, texts = [], set()
    for t in range(FRAMES - 20):
        order = list(range(len(LANES)))
        rng.shuffle(order)
        for lane in order:
            if t < nxt[lane]:
                continue
            yc, heights, _, d = LANES[lane]
            v = speeds[lane]
            if pending[lane] is None:
                th = rng.choice(heights)
                text = plate_text(rng)
                while text in texts:
                    text = plate_text(rng)
                texts.add(text)
                fname = rng.choice(FONTS)
                color = rng.choice((WHITE, WHITE, YELLOW, GREY, BLUEISH))
                angle = rng.choice((-3, -2, -1, 0, 0, 1, 2, 3))
                path, box, _ = world_plates.render_plate(tmp, len(texts), text,
                                                         common.font_path(fname), th, color, angle)
                pending[lane] = {"text": text, "font": fname[:-4], "text_height": th,
                                 "angle_deg": angle, "lane": lane, "speed": v, "dir": d,
                                 "sprite": path, "box": box}
            p = pending[lane]
            box = p["box"]
            x_enter = -box[2] + 1 if d > 0 else WIDTH - box[0] - 1
            y0 = yc - (box[1] + box[3]) // 2
            boxes, full = {}, []
            for n in range(t, FRAMES):
                x = x_enter + d * v * (n - t)
                bb = [x + box[0], y0 + box[1], x + box[2], y0 + box[3]]
                c = common.clip_box(bb, WIDTH, HEIGHT)
                if c is None:
                    break
                boxes[n] = c
                if common.inside(bb, WIDTH, HEIGHT):
                    full.append(n)
            clash = any(n in q["boxes"] and common.boxes_intersect(q["boxes"][n], bx)
                        for q in plates for n, bx in boxes.items())
            busy = max(sum(1 for q in plates if n in q["boxes"]) for n in boxes)
            lane_busy = max(sum(1 for q in plates if q["lane"] == lane and n in q["boxes"])
                            for n in boxes)
            if clash or busy >= MAX_ON or lane_busy >= LANE_MAX or not full:
                nxt[lane] = t + 2
                continue
            del p["box"]
            p.update({"x0": x_enter, "y0": y0, "first_frame": t, "last_frame": max(boxes),
                      "boxes": boxes, "plate_height": box[3] - box[1],
                      "full_first_frame": full[0], "full_last_frame": full[-1]})
            plates.append(p)
            pending[lane] = None
            nxt[lane] = t + rng.randrange(10, 110)
    check_layout(plates)
    return plates


def check_layout(plates):
    counts = [0] * FRAMES
    for p in plates:
        for n in p["boxes"]:
            counts[n] += 1
    if max(counts) > MAX_ON:
        raise common.GenError("a frame shows %d plates (max %d)" % (max(counts), MAX_ON))
    if counts[0] != 0:
        raise common.GenError("frame 0 should show no plate")
    for n in range(FRAMES):
        on = [p for p in plates if n in p["boxes"]]
        for a in range(len(on)):
            for b in range(a + 1, len(on)):
                if common.boxes_intersect(on[a]["boxes"][n], on[b]["boxes"][n]):
                    raise common.GenError("plates %r and %r overlap at frame %d"
                                          % (on[a]["text"], on[b]["text"], n))


def render_background(tmp):
    bg = os.path.join(tmp, "bg.png")
    W, H = WIDTH + 48, HEIGHT + 32
    common.background(bg, W, H, SEED, ("#9aa4ae", "#303030"), (590, "#00000050"),
                      [(60, 20, 300, 420), (420, 40, 700, 400), (880, 10, 1140, 430),
                       (1200, 60, 1320, 400)])
    cmd = [common.CONVERT, bg, "-stroke", "none"]
    # windows of the buildings (grids of small dark/light rectangles: text-like texture)
    rng = random.Random(SEED + 1)
    for (x1, y1, x2, y2) in ((60, 20, 300, 420), (420, 40, 700, 400), (880, 10, 1140, 430)):
        for y in range(y1 + 14, y2 - 20, 34):
            for x in range(x1 + 12, x2 - 20, 28):
                shade = rng.choice(("#2a3040a0", "#c8c090a0", "#1a1e28a0"))
                cmd += ["-fill", shade, "-draw", "rectangle %d,%d %d,%d" % (x, y, x + 14, y + 18)]
    # fence: thin vertical bars along a rail
    cmd += ["-fill", "#202020c0"]
    for x in range(0, W, 11):
        cmd += ["-draw", "rectangle %d,%d %d,%d" % (x, 575, x + 3, 600)]
    # road markings (dashes) between the near lanes
    cmd += ["-fill", "#d8d8d0a0"]
    for x in range(0, W, 90):
        cmd += ["-draw", "rectangle %d,%d %d,%d" % (x, 575 + 10, x + 45, 575 + 14)]
    # a stripe code (barcode-like) on a wall
    x = 720
    for k in range(40):
        w = rng.choice((1, 2, 3))
        cmd += ["-fill", "#101010", "-draw", "rectangle %d,%d %d,%d" % (x, 470, x + w - 1, 500)]
        x += w + rng.choice((1, 2, 3))
    for text, tx, ty, ps, fill, box in DISTRACTORS:
        font = common.font_path("DejaVuSans.ttf")
        w, h = common.text_ink(font, ps, text)
        cmd += ["-fill", box, "-draw", "rectangle %d,%d %d,%d" % (tx - 8, ty - 6, tx + w + 8,
                                                                  ty + h + 6),
                "-fill", fill, "-font", font, "-pointsize", str(ps), "-gravity", "NorthWest",
                "-annotate", "+%d+%d" % (tx, ty - round(0.2 * ps)), text]
    cmd += ["-depth", "8", "-strip", bg]
    common.run(cmd)
    return bg


def render_video(tmp, plates, mp4, h264):
    bg = render_background(tmp)
    inputs = ["-i", bg] + [a for p in plates for a in ("-i", p["sprite"])]
    still = "loop=loop=-1:size=1:start=0,settb=1/%d,setpts=N" % FPS
    fg = ["[0:v]%s,format=gbrp,crop=%d:%d:x='trunc(n*0.12)':y='trunc(24-n*0.06)'[b0]"
          % (still, WIDTH, HEIGHT)]
    for i, p in enumerate(plates):
        k = "(round(t*%d)-%d)" % (FPS, p["first_frame"])
        fg.append("[%d:v]%s[s%d]" % (i + 1, still, i))
        fg.append("[b%d][s%d]overlay=x='%d+(%d)*%d*%s':y=%d:format=gbrp:eof_action=pass:"
                  "enable='between(round(t*%d),%d,%d)'[b%d]"
                  % (i, i, p["x0"], p["dir"], p["speed"], k, p["y0"], FPS, p["first_frame"],
                     p["last_frame"], i + 1))
    common.encode(inputs, ";".join(fg), "b%d" % len(plates), FRAMES, FPS, mp4, h264)


def truth(plates):
    out = []
    for p in plates:
        q = {k: p[k] for k in ("text", "first_frame", "last_frame", "full_first_frame",
                               "full_last_frame", "font", "text_height", "plate_height",
                               "angle_deg", "lane", "speed")}
        q["boxes"] = {str(n): b for n, b in sorted(p["boxes"].items())}
        out.append(q)
    counts = [0] * FRAMES
    for p in plates:
        for n in p["boxes"]:
            counts[n] += 1
    return {"generator": "scripts/make_varied_sample.sh v%d" % VERSION, "seed": SEED,
            "video": OUTPUTS[0], "stream": OUTPUTS[1], "width": WIDTH, "height": HEIGHT,
            "fps": FPS, "frames": FRAMES,
            "plate_heights": [min(p["plate_height"] for p in plates),
                              max(p["plate_height"] for p in plates)],
            "max_plates_per_frame": max(counts),
            "distractors": [d[0] for d in DISTRACTORS],
            "box_format": "[x1, y1, x2, y2] pixels, end exclusive, clipped to the frame; "
                          "axis-aligned box of the rotated plate",
            "plates": out}


def main(argv):
    force, outdir = False, None
    for a in argv:
        if a == "--force":
            force = True
        elif a in ("-h", "--help"):
            print("usage: scripts/make_varied_sample.sh [OUTDIR] [--force]   (default samples/)")
            return 0
        elif a.startswith("-") or outdir is not None:
            common.say(PROG, "unknown argument %r (usage: make_varied_sample.sh [OUTDIR] "
                             "[--force])" % a)
            return 2
        else:
            outdir = a
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = outdir or os.path.join(os.path.dirname(os.path.dirname(here)), "samples")
    stamp = common.source_stamp("varied_plates", VERSION,
                                [os.path.abspath(__file__), os.path.join(here, "common.py"),
                                 os.path.join(here, "world_plates.py")])
    if not force and common.up_to_date(outdir, STAMP, stamp, OUTPUTS):
        common.say(PROG, "%s is up to date (%s); --force regenerates" % (outdir, stamp))
        return 0
    try:
        common.need_tools()
        os.makedirs(outdir, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".varied-", dir=outdir) as tmp:
            plates = schedule(tmp)
            mp4, h264 = (os.path.join(tmp, o) for o in OUTPUTS[:2])
            render_video(tmp, plates, mp4, h264)
            w, h, n = common.probe_frames(mp4)
            if (w, h, n) != (WIDTH, HEIGHT, FRAMES):
                raise common.GenError("encoded %dx%d, %d frames; expected %dx%d, %d frames"
                                      % (w, h, n, WIDTH, HEIGHT, FRAMES))
            common.write_json(os.path.join(tmp, OUTPUTS[2]), truth(plates))
            common.publish(tmp, outdir, OUTPUTS, STAMP, stamp)
    except (common.GenError, OSError) as e:
        common.say(PROG, "FAILED: %s" % e)
        return 1
    common.say(PROG, "wrote %s: %d plates (plate height %d..%d px), at most %d per frame, "
                     "%d frames" % (outdir, len(plates), min(p["plate_height"] for p in plates),
                                    max(p["plate_height"] for p in plates),
                                    truth(plates)["max_plates_per_frame"], FRAMES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
