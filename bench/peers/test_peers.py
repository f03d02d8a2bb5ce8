#!/usr/bin/env python3
"""test_peers.py - unit tests of the peers' pure-Python parts (NumPy + standard library, no torch
or OpenCV): letterbox maths, NumPy YOLO decode + NMS, the tracker port (assignment, Kalman, life
cycle, votes), CTC decoding, plate normalisation/acceptance, DBNet unclip and line merging, the
result checker, and the skip path of every peer script. Expectations are worked out by hand or
by brute force, independently of the code under test.

    /usr/bin/python3 bench/peers/test_peers.py        (CTest: tests/integration/test_bench_peers.sh)
"""
import io
import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import check_results  # noqa: E402
import peers_common as pc  # noqa: E402
import plates as pl  # noqa: E402
import tracker as tk  # noqa: E402


class Letterbox(unittest.TestCase):
    def test_1080p_to_640(self):
        self.assertEqual(pc.letterbox_params(1920, 1080, 640, 640), (1 / 3, 1 / 3, 0, 140, 640, 360))

    def test_portrait(self):  # 300x100 (tall): r = 640/300, new 213x640, pad x (640-213)//2
        sx, sy, px, py, nw, nh = pc.letterbox_params(100, 300, 640, 640)
        self.assertEqual((px, py, nw, nh), (213, 0, 213, 640))
        self.assertAlmostEqual(sx, 2.13)
        self.assertAlmostEqual(sy, 640 / 300)

    def test_top_left(self):  # 1280x720 -> 960x544: r = 0.75, 960x540 at (0, 0)
        self.assertEqual(pc.letterbox_params(1280, 720, 960, 544, top_left=True),
                         (0.75, 0.75, 0, 0, 960, 540))

    def test_round_half_up(self):  # 5 * 0.5 = 2.5 -> 3 (C's lround), Python's round gives 2
        self.assertEqual(pc.letterbox_params(5, 10, 4, 5)[4], 3)

    def test_bad_sizes(self):
        with self.assertRaises(ValueError):
            pc.letterbox_params(0, 10, 640, 640)

    def test_boxes_back_to_frame(self):
        b = pc.boxes_to_frame([[10, 150, 40, 200], [-5, 100, 700, 600]], 1 / 3, 1 / 3, 0, 140,
                              1920, 1080)
        np.testing.assert_allclose(b[0], [30, 30, 120, 180], atol=1e-4)
        np.testing.assert_allclose(b[1], [0, 0, 1920, 1080])  # clipped

    def test_letterbox_image(self):
        frame = np.full((2, 4, 3), 200, np.uint8)
        out, (sx, sy, px, py) = pc.letterbox_np(frame, 8, 8, pc.resize_nearest)
        self.assertEqual((px, py), (0, 2))
        self.assertTrue((out[2:6] == 200).all())
        self.assertTrue((out[:2] == 114).all() and (out[6:] == 114).all())


class YoloNms(unittest.TestCase):
    def test_nms_by_hand(self):
        boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 10]],
                         np.float32)
        scores = np.array([0.9, 0.8, 0.7, 0.95], np.float32)
        classes = np.array([0, 0, 0, 1])
        # box 1 overlaps box 0 with IoU 90/110 = 0.818 > 0.5: dropped; box 3 is another class
        self.assertEqual(pc.nms_np(boxes, scores, classes, 0.5).tolist(), [3, 0, 2])
        self.assertEqual(pc.nms_np(boxes, scores, classes, 0.9).tolist(), [3, 0, 1, 2])
        self.assertEqual(pc.nms_np(boxes, scores, classes, 0.5, max_det=2).tolist(), [3, 0])

    def test_ties_lower_index_first(self):
        boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
        self.assertEqual(pc.nms_np(boxes, np.array([0.5, 0.5]), np.array([0, 0]), 0.5).tolist(),
                         [0])

    def test_v8_candidates(self):
        out = np.zeros((4 + 3, 3), np.float32)
        out[:4, 0] = [50, 60, 20, 10]    # cx, cy, w, h
        out[4:, 0] = [0.1, 0.7, 0.7]     # first maximum: class 1
        out[4:, 1] = [0.25, 0.1, 0.1]    # not > 0.25
        out[4:, 2] = [0.3, 0.0, 0.0]
        b, s, c = pc.yolo_v8_candidates(out, 0.25)
        self.assertEqual(c.tolist(), [1, 0])
        np.testing.assert_allclose(b[0], [40, 55, 60, 65])
        np.testing.assert_allclose(s, [0.7, 0.3], rtol=1e-6)


class Assign(unittest.TestCase):
    def brute(self, cost, gate):
        rows, cols = cost.shape
        best = None
        for perm in itertools.permutations(list(range(cols)) + [-1] * rows, rows):
            if any(j >= 0 and cost[i, j] > gate for i, j in enumerate(perm)):
                continue
            used = [j for j in perm if j >= 0]
            if len(used) != len(set(used)):
                continue
            total = sum(cost[i, j] if j >= 0 else gate / 2 for i, j in enumerate(perm)) + \
                (cols - len(used)) * gate / 2
            if best is None or total < best[0] - 1e-12:
                best = (total, list(perm))
        return best

    def total(self, cost, gate, match):
        cols = cost.shape[1]
        used = [j for j in match if j >= 0]
        return sum(cost[i, j] if j >= 0 else gate / 2 for i, j in enumerate(match)) + \
            (cols - len(used)) * gate / 2

    def test_by_hand(self):
        cost = np.array([[0.1, 0.9], [0.2, 0.3]])
        self.assertEqual(tk.assign(cost, 0.8), [0, 1])
        self.assertEqual(tk.assign(np.array([[0.75]]), 0.8), [0])   # 0.75 < 0.4 + 0.4
        self.assertEqual(tk.assign(np.array([[0.85]]), 0.8), [-1])  # above the gate
        self.assertEqual(tk.assign(np.zeros((0, 3)), 0.8), [])
        self.assertEqual(tk.assign(np.zeros((2, 0)), 0.8), [-1, -1])

    def test_against_brute_force(self):
        rng = np.random.default_rng(5)
        for trial in range(40):
            r, c = rng.integers(1, 5), rng.integers(1, 5)
            cost = rng.random((r, c))
            gate = 0.8
            want = self.brute(cost, gate)
            for solver in (tk._lsa, None):
                saved = tk._lsa
                tk._lsa = solver
                try:
                    got = tk.assign(cost, gate)
                finally:
                    tk._lsa = saved
                self.assertAlmostEqual(self.total(cost, gate, got), want[0], places=9,
                                       msg="trial %d solver %s" % (trial, solver))

    def test_python_hungarian_square(self):
        a = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        col = tk._hungarian(a)
        self.assertEqual(sum(a[i][col[i]] for i in range(3)), 5)  # 1 + 2 + 2


class Kalman(unittest.TestCase):
    def test_constant_velocity(self):
        k = tk.Kalman(np.array([100, 100, 140, 200.0]))
        for f in range(1, 30):
            k.predict(False)
            k.update(np.array([100 + 4 * f, 100, 140 + 4 * f, 200.0]))
        k.predict(False)
        np.testing.assert_allclose(k.box(), [100 + 4 * 30, 100, 140 + 4 * 30, 200], atol=1.0)

    def test_box_round_trip(self):
        k = tk.Kalman(np.array([10, 20, 50, 100.0]))
        np.testing.assert_allclose(k.box(), [10, 20, 50, 100])


class TrackerLife(unittest.TestCase):
    def test_ids_and_life_cycle(self):
        t = tk.Tracker(min_hits=3, max_lost=2)
        box = lambda f: [[100 + 5 * f, 100, 150 + 5 * f, 200]]
        # first frame: confirmed at once
        self.assertEqual(t.update(0, box(0), [0.9], [0]), [1])
        self.assertEqual(t.update(1, box(1), [0.9], [0]), [1])
        # a second object from frame 2: tentative until its third hit
        two = lambda f: box(f) + [[400, 400, 450, 500]]
        self.assertEqual(t.update(2, two(2), [0.9, 0.8], [0, 0]), [1, -1])
        self.assertEqual(t.update(3, two(3), [0.9, 0.8], [0, 0]), [1, -1])
        self.assertEqual(t.update(4, two(4), [0.9, 0.8], [0, 0]), [1, 2])
        # a low detection (0.3) keeps track 1 alive (second stage); a 0.55 one is not a new track
        self.assertEqual(t.update(5, [box(5)[0], [800, 800, 820, 820]], [0.3, 0.55], [0, 0]),
                         [1, -1])
        self.assertEqual(t.counts(), {"tentative": 0, "tracked": 1, "lost": 1})
        # track 2 lost at frame 5; two more misses end it (missed 3 > max_lost 2)
        t.update(6, box(6), [0.9], [0])
        self.assertEqual([e["track_id"] for e in t.ended], [])
        t.update(7, box(7), [0.9], [0])
        self.assertEqual([e["track_id"] for e in t.ended], [2])
        t.finish()
        self.assertEqual([e["track_id"] for e in t.ended], [2, 1])
        self.assertEqual(t.ended[1]["first_frame"], 0)
        self.assertEqual(t.ended[1]["last_frame"], 7)

    def test_frames_must_increase(self):
        t = tk.Tracker()
        t.update(3, [], [], [])
        with self.assertRaises(ValueError):
            t.update(3, [], [], [])

    def test_votes(self):
        t = tk.Tracker(min_hits=1)
        b = [[0, 0, 100, 40]]
        for f, (txt, s) in enumerate([("AB12", 0.9), ("A812", 0.95), ("AB12", 0.85), ("", 0)]):
            t.update(f, b, [0.9], [0], [(txt, s)])
        t.finish()
        e = t.ended[0]
        self.assertEqual((e["text"], e["votes"]), ("AB12", 2))
        self.assertAlmostEqual(e["text_score"], 1.75)

    def test_vote_replaces_weakest(self):
        tr = tk.Track([0, 0, 1, 1], 0.9, 0, 0)
        for i in range(tk.MAX_VOTES):
            tr.vote("T%d" % i, 0.5 + 0.01 * i)
        tr.vote("NEW", 0.4)           # weaker than the weakest (0.5): ignored
        self.assertNotIn("NEW", [v[0] for v in tr.votes])
        tr.vote("NEW", 0.6)           # beats T0 (0.5): replaces it
        self.assertEqual(tr.votes[0][0], "NEW")

    def test_unknown_parameter(self):
        with self.assertRaises(ValueError):
            tk.Tracker(hi_thresh=0.5)


class Ctc(unittest.TestCase):
    chars = ["", "A", "B", "1", " "]

    def probs(self, seq, p=0.9):
        out = np.full((len(seq), 5), (1 - p) / 4)
        for i, c in enumerate(seq):
            out[i, c] = p
        return out

    def test_collapse(self):
        # A A blank A B B space 1 -> "AA B 1"... collapse: A, (A repeat), blank, A, B, space, 1
        text, score = pl.ctc_greedy(self.probs([1, 1, 0, 1, 2, 2, 4, 3]), self.chars)
        self.assertEqual(text, "AAB 1")
        self.assertAlmostEqual(score, 0.9)

    def test_logits(self):
        lg = np.log(self.probs([1, 0, 2], 0.8)) + 3.0   # not probabilities: softmax per step
        text, score = pl.ctc_greedy(lg, self.chars)
        self.assertEqual(text, "AB")
        self.assertAlmostEqual(score, 0.8, places=6)

    def test_empty_and_bad(self):
        self.assertEqual(pl.ctc_greedy(self.probs([0, 0]), self.chars), ("", 0.0))
        with self.assertRaises(ValueError):
            pl.ctc_greedy(np.zeros((3, 4)), self.chars)

    def test_dict(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("a\nb\n")
        try:
            self.assertEqual(pl.load_dict(f.name), ["", "a", "b", " "])
            self.assertEqual(pl.load_dict(f.name, use_space=False), ["", "a", "b"])
        finally:
            os.unlink(f.name)


class PlateText(unittest.TestCase):
    def test_normalize(self):  # the cases of tests/unit/test_post_textnorm.c
        for a, b in [("12-XKB-3", "12-XKB-3"), ("12\u4e00XKB\u4e003", "12-XKB-3"),
                     ("12\u30fcXKB\u20143", "12-XKB-3"), ("AB\u2013123\u2212CD", "AB-123-CD"),
                     ("AB\uff0d123\u2500CD", "AB-123-CD"), ("ab12 cde", "AB12 CDE"),
                     ("\uff21\uff22\uff11\uff12", "AB12"),
                     ("  MH  12\tAB \u3000 1234 ", "MH 12 AB 1234"), ("B - MW 1234", "B-MW 1234"),
                     ("B -MW", "B-MW"), ("-AB 12-", "AB 12"), ("A--B", "A-B"), ("", ""),
                     (" - ", ""), ("Z\u00fcrich 1", "Z\u00fcRICH 1"), ("AB.12/c", "AB.12/C")]:
            self.assertEqual(pl.normalize_plate(a), b, a)

    def test_accept(self):
        self.assertTrue(pl.accept("KX52 RTU", 0.9))
        self.assertTrue(pl.accept("MH 12 AB 1234", 0.9))
        self.assertFalse(pl.accept("KX52 RTU", 0.7))          # score
        self.assertFalse(pl.accept("RTU", 0.9))               # 3 < 4
        self.assertFalse(pl.accept("A B C D E", 0.99))        # five groups
        self.assertFalse(pl.accept("AB.123", 0.99))           # '.'
        self.assertFalse(pl.accept("ABCDEFGHIJKLM", 0.99))    # 13 > 12
        self.assertEqual(pl.plate_length("12-XKB-3"), 6)


class Geometry(unittest.TestCase):
    def test_unclip(self):  # 100 x 20, ratio 1.5: d = 2000 * 1.5 / 240 = 12.5
        c, s, a = pl.unclip_rect((50, 10), (100, 20), 0, 1.5)
        self.assertEqual(s, (125.0, 45.0))
        self.assertEqual((c, a), ((50, 10), 0))

    def test_order_clockwise(self):
        self.assertEqual(pl.order_clockwise([[10, 10], [0, 0], [10, 0], [0, 10]]),
                         [(0, 0), (10, 0), (10, 10), (0, 10)])

    def test_merge_words_of_a_line(self):
        def bbox_quad(pts):
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            return [(min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys))]
        q = lambda x1, y1, x2, y2: [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
        items = [{"quad": q(100, 50, 160, 80), "score": 0.7},   # "CD"
                 {"quad": q(170, 51, 260, 81), "score": 0.9},   # "5917": gap 10 < 1.2 * 30
                 {"quad": q(100, 200, 160, 230), "score": 0.8}]  # another line
        out = pl.merge_lines(items, 1.2, bbox_quad)
        self.assertEqual(len(out), 2)
        self.assertEqual(out[0]["quad"], q(100, 50, 260, 81))
        self.assertEqual(out[0]["score"], 0.9)
        far = [{"quad": q(100, 50, 160, 80), "score": 0.7},
               {"quad": q(200, 50, 260, 80), "score": 0.9}]     # gap 40 > 36
        self.assertEqual(len(pl.merge_lines(far, 1.2, bbox_quad)), 2)


class Results(unittest.TestCase):
    def good(self):
        return pc.result("detection", "detection/python-torch/n1", "python-torch", streams=1,
                         frames=10, fps=12.5,
                         latency_ms={"mean": 1.0, "p50": 1.0, "p99": 2.0, "max": 3.0},
                         stages_ms={"decode": 0.5}, quality={"detections": 3})

    def test_valid(self):
        self.assertIsNone(check_results.problem(self.good()))

    def test_invalid(self):
        for change in ({"suite": "nope"}, {"fps": float("nan")}, {"fps": -1.0},
                       {"latency_ms": {"p50": 1}}, {"fps": None, "notes": ""},
                       {"streams": "1"}, {"extra": 1}, {"command": ""}):
            r = self.good()
            r.update(change)
            self.assertIsNotNone(check_results.problem(r), change)
        r = self.good()
        del r["notes"]
        self.assertIsNotNone(check_results.problem(r))

    def test_percentile_nearest_rank(self):
        ms = list(range(1, 101))
        self.assertEqual(pc.percentile(ms, 50), 50)
        self.assertEqual(pc.percentile(ms, 99), 99)
        self.assertEqual(pc.latency_summary([2.0, 4.0])["mean"], 3.0)
        self.assertIsNone(pc.latency_summary([]))

    def test_cpus_format(self):
        s = pc.cpus_of_process()
        self.assertRegex(s, r"^\d+(-\d+)?(,\d+(-\d+)?)*$")


class SkipPath(unittest.TestCase):
    """Without torch/cv2/onnxruntime every peer prints one valid object with fps null, notes
    'skipped: ...', and exits 0 (what the CI smoke sees)."""

    def run_peer(self, *argv):
        p = subprocess.run([sys.executable] + list(argv), cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
        return p.returncode, [json.loads(l) for l in p.stdout.splitlines() if l.strip()]

    def check(self, module, argv):
        try:
            __import__(module)
            self.skipTest("%s is installed here: the skip path is not reachable" % module)
        except ImportError:
            pass
        rc, objs = self.run_peer(*argv)
        self.assertEqual(rc, 0)
        self.assertTrue(objs)
        for r in objs:
            self.assertIsNone(check_results.problem(r))
            self.assertIsNone(r["fps"])
            self.assertTrue(r["notes"].startswith("skipped: "), r["notes"])
            self.assertIn("%s not installed" % module, r["notes"])

    def test_without_numpy(self):
        """CI's default python3 may lack numpy too: still one skipped object, exit 0."""
        code = ("import runpy, sys; sys.modules['numpy'] = None; sys.argv = sys.argv[1:]; "
                "runpy.run_path(sys.argv[0], run_name='__main__')")
        for argv in (["bench/peers/det_loop.py", "--device", "cpu", "--frames", "2"],
                     ["bench/peers/model_alone.py", "--device", "cpu"],
                     ["bench/peers/plates_loop.py", "--frames", "2"]):
            p = subprocess.run([sys.executable, "-c", code] + argv, cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr[-500:])
            objs = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
            self.assertTrue(objs, argv)
            for r in objs:
                self.assertIsNone(check_results.problem(r))
                self.assertIn("numpy not installed", r["notes"])

    def test_det_loop(self):
        self.check("torch", ["bench/peers/det_loop.py", "--device", "cpu", "--frames", "10"])

    def test_model_alone(self):
        self.check("torch", ["bench/peers/model_alone.py", "--device", "cpu"])

    def test_plates_loop(self):
        self.check("cv2", ["bench/peers/plates_loop.py", "--frames", "10"])


if __name__ == "__main__":
    unittest.main(verbosity=1)
