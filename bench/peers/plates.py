"""plates.py - the pure-Python parts of the plate peer (bench/peers/plates_loop.py), ports of
vidgraph's CPU code so the peer does the same work: greedy CTC decoding of a PP-OCR recogniser
output (src/post/ctc.c), the plate normalisation and acceptance of examples/plates.yaml
(src/post/textnorm.c, node_text_recognize_decode.c), DBNet's unclip of a rectangle
(post_text.h pt_unclip) and the merging of the words of one line (node_text_detect_decode.c).
NumPy + the standard library (re) only.
"""
import math
import re

import numpy as np

PLATE_PATTERN = r"^[A-Z0-9]+([ -][A-Z0-9]+){0,3}$"   # examples/plates.yaml, node "read"


def load_dict(path, use_space=True):
    """PP-OCR dictionary: class 0 = blank, 1..n = the file's lines, n+1 = space."""
    with open(path, encoding="utf-8") as f:
        lines = [ln.rstrip("\r\n") for ln in f]
    if lines and lines[-1] == "":
        lines.pop()
    return [""] + lines + ([" "] if use_space else [])


def ctc_greedy(probs, chars):
    """probs [T, C] of one crop -> (text, score) as vg_ctc_decode: argmax per step (first
    maximum), repeats collapsed, blanks (0) dropped; score = mean probability of the kept steps.
    Rows that are not probabilities (outside 0..1 or not summing to 1 within 0.01) are logits:
    each kept step's probability is then its softmax."""
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or p.shape[1] != len(chars):
        raise ValueError("ctc: output %s does not match a dictionary of %d classes"
                         % (list(p.shape), len(chars)))
    best = p.argmax(axis=1)
    bv = p[np.arange(len(p)), best]
    is_probs = bool(np.all((p >= 0) & (p <= 1)) and np.all(np.abs(p.sum(axis=1) - 1) <= 0.01))
    text, conf, kept, prev = [], 0.0, 0, -1
    for s, c in enumerate(best):
        c = int(c)
        keep = c != 0 and c != prev
        prev = c
        if not keep:
            continue
        pr = bv[s] if is_probs else 1.0 / np.exp(p[s] - bv[s]).sum()
        text.append(chars[c])
        conf += float(pr)
        kept += 1
    return "".join(text), (conf / kept if kept else 0.0)


_DASHES = set("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501\u30fc\u4e00\ufe58\ufe63"
              "\uff0d\u00ad")
_BLANKS = set(" \t\u3000\u00a0")


def _plate_char(ch):
    cp = ord(ch)
    if 0xFF01 <= cp <= 0xFF5E:
        cp -= 0xFEE0
        ch = chr(cp)
    if ch in _DASHES:
        return "-"
    if ch in _BLANKS:
        return " "
    if "a" <= ch <= "z":
        return ch.upper()
    if 0x20 < cp < 0x7F:
        return ch
    return None


def normalize_plate(text):
    """textnorm.c's plate form: upper-case ASCII, dash-like glyphs -> '-', blanks -> one space,
    '-' wins over spaces around it, separators at the ends dropped, other characters kept."""
    out, sep, any_ = [], None, False
    for ch in text:
        a = _plate_char(ch)
        if a in (" ", "-"):
            if a == "-" or sep is None:
                sep = a
            continue
        if sep and any_:
            out.append(sep)
        sep = None
        any_ = True
        out.append(a if a is not None else ch)
    return "".join(out)


def plate_length(text):
    return sum(1 for ch in text if ch not in _DASHES and ch not in _BLANKS)


def accept(text, score, min_score=0.8, min_length=4, max_length=12, pattern=PLATE_PATTERN):
    """The node's check after normalisation (plates.yaml: min_score 0.8, 4..12, pattern)."""
    n = plate_length(text)
    if score < min_score or n < min_length or n > max_length:
        return False
    return pattern is None or re.search(pattern, text) is not None


def unclip_rect(center, size, angle, ratio=1.5):
    """DBNet's unclip of a rectangle (pt_unclip): each side moves out by
    d = w * h * ratio / (2 * (w + h)). cv2.minAreaRect form in and out."""
    w, h = size
    d = w * h * ratio / (2.0 * (w + h)) if w > 0 and h > 0 else 0.0
    return center, (w + 2 * d, h + 2 * d), angle


def _side(q, i, j):
    return math.hypot(q[i][0] - q[j][0], q[i][1] - q[j][1])


def line_of(q):
    """Quad [[x,y]*4] clockwise from top-left -> (centre y, height, x1, x2)."""
    h = 0.5 * (_side(q, 0, 3) + _side(q, 1, 2))
    cy = 0.25 * sum(p[1] for p in q)
    xs = [p[0] for p in q]
    return cy, h, min(xs), max(xs)


def merge_lines(items, merge_gap, min_area_quad):
    """Merges the words of one line (node_text_detect_decode.c merge_lines): quads whose heights
    agree within 1.6x, centres within half a line height, b starting right of a's start with a
    gap below merge_gap * height become one: the minimum-area rectangle of the 8 corners
    (min_area_quad(points) -> quad). items: dicts with "quad" (4 corners) and "score"."""
    merged = True
    while merged:
        merged = False
        for i in range(len(items)):
            for j in range(len(items)):
                if i == j:
                    continue
                a, b = items[i], items[j]
                ay, ah, ax1, ax2 = line_of(a["quad"])
                by, bh, bx1, bx2 = line_of(b["quad"])
                hmin, hmax = min(ah, bh), max(ah, bh)
                if hmin <= 0 or hmax > 1.6 * hmin or abs(ay - by) > 0.5 * hmin:
                    continue
                if bx1 < ax1 or bx1 - ax2 > merge_gap * hmin:
                    continue
                a["quad"] = min_area_quad(list(a["quad"]) + list(b["quad"]))
                a["score"] = max(a["score"], b["score"])
                items[j] = items[-1]
                items.pop()
                merged = True
                break
            if merged:
                break
    return items


def order_clockwise(pts):
    """4 points -> clockwise from the top-left (PP-OCR's order: by x, then y within pairs)."""
    p = sorted([tuple(map(float, q)) for q in pts], key=lambda t: (t[0], t[1]))
    left, right = p[:2], p[2:]
    tl, bl = (left[0], left[1]) if left[0][1] <= left[1][1] else (left[1], left[0])
    tr, br = (right[0], right[1]) if right[0][1] <= right[1][1] else (right[1], right[0])
    return [tl, tr, br, bl]
