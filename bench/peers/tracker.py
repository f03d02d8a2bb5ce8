"""tracker.py - a Python port of vidgraph's tracker (src/track/tracker.c, kalman.c, assign.c),
the same logic with the same thresholds, as a Python user would write it for the peer loop:

  constant-velocity Kalman filter on (cx, cy, w/h, h) with noise scaled by the height;
  ByteTrack association: high-score detections vs tracked + lost tracks (IoU >= match_iou), low
  ones vs the remaining tracked (low_match_iou), tentative tracks vs the leftover high ones
  (tentative_match_iou); optimal assignment on 1 - IoU extended with "unmatched" at gate/2 (as
  assign.c / lapjv's cost_limit); tentative -> confirmed after min_hits (ids at confirmation;
  every track of the first frame is confirmed at once), lost after a miss, removed after
  max_lost misses; new tracks from unmatched high detections >= new_track_thresh.

The assignment uses scipy.optimize.linear_sum_assignment when SciPy is installed (what users
do), else the Hungarian method ported from assign.c. ASSIGNER says which. NumPy only otherwise.
"""
import numpy as np

try:
    from scipy.optimize import linear_sum_assignment as _lsa
    ASSIGNER = "scipy.linear_sum_assignment"
except ImportError:  # pragma: no cover - depends on the machine
    _lsa = None
    ASSIGNER = "python-hungarian"

MAX_VOTES = 8  # VG_TRACK_MAX_VOTES
W_POS = 1.0 / 20
W_VEL = 1.0 / 160
TENTATIVE, TRACKED, LOST = 0, 1, 2

DEFAULTS = dict(high_thresh=0.5, low_thresh=0.1, new_track_thresh=0.6, match_iou=0.2,
                low_match_iou=0.5, tentative_match_iou=0.3, min_hits=2, max_lost=30,
                per_class=False, max_tracks=512)

_F = np.eye(8)
_F[:4, 4:] = np.eye(4)


def _meas(box):
    w, h = box[2] - box[0], box[3] - box[1]
    h = max(h, 1e-3)
    return np.array([box[0] + w / 2, box[1] + h / 2, w / h, h])


class Kalman:
    def __init__(self, box):
        self.mean = np.zeros(8)
        self.mean[:4] = _meas(box)
        h = self.mean[3]
        sd = np.array([2 * W_POS * h, 2 * W_POS * h, 1e-2, 2 * W_POS * h,
                       10 * W_VEL * h, 10 * W_VEL * h, 1e-5, 10 * W_VEL * h])
        self.cov = np.diag(sd * sd)

    def predict(self, freeze_h):
        if freeze_h:
            self.mean[7] = 0
        h = self.mean[3]
        sd = np.array([W_POS * h, W_POS * h, 1e-2, W_POS * h, W_VEL * h, W_VEL * h, 1e-5,
                       W_VEL * h])
        self.mean[:4] += self.mean[4:]
        self.cov = _F @ self.cov @ _F.T + np.diag(sd * sd)

    def update(self, box):
        z = _meas(box)
        h = self.mean[3]
        r = np.array([W_POS * h, W_POS * h, 1e-1, W_POS * h])
        s = self.cov[:4, :4] + np.diag(r * r)
        k = self.cov[:, :4] @ np.linalg.inv(s)
        self.mean = self.mean + k @ (z - self.mean[:4])
        p = self.cov - k @ self.cov[:4, :]
        self.cov = 0.5 * (p + p.T)

    def box(self):
        w, h = self.mean[2] * self.mean[3], self.mean[3]
        return np.array([self.mean[0] - w / 2, self.mean[1] - h / 2, self.mean[0] + w / 2,
                         self.mean[1] + h / 2])


def iou_matrix(a, b):
    """IoU of every box of a [N,4] with every box of b [M,4] (x1, y1, x2, y2)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area = lambda x: np.clip(x[:, 2] - x[:, 0], 0, None) * np.clip(x[:, 3] - x[:, 1], 0, None)
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def _hungarian(a):
    """Minimum-cost assignment of the square matrix a (list of lists): col_of_row (assign.c)."""
    n = len(a)
    inf = float("inf")
    u, v, p, way = [0.0] * (n + 1), [0.0] * (n + 1), [0] * (n + 1), [0] * (n + 1)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (n + 1)
        used = [False] * (n + 1)
        while True:
            used[j0] = True
            i0, j1, delta = p[j0], 0, inf
            row = a[i0 - 1]
            for j in range(1, n + 1):
                if used[j]:
                    continue
                cur = row[j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    col = [-1] * n
    for j in range(1, n + 1):
        if p[j]:
            col[p[j] - 1] = j - 1
    return col


def assign(cost, gate):
    """vg_assign: rows matched to columns minimising the total cost, where a pair costs its
    entry (above gate = forbidden) and leaving a row or a column unmatched costs gate/2.
    Returns row_match (column index or -1 per row)."""
    cost = np.asarray(cost, np.float64)
    rows, cols = cost.shape
    if rows == 0 or cols == 0:
        return [-1] * rows
    n = rows + cols
    big = 1e6 + gate * 4 + 1
    a = np.full((n, n), big)
    c = np.where(np.isfinite(cost) & (cost <= gate), cost, big)
    a[:rows, :cols] = c
    a[np.arange(rows), cols + np.arange(rows)] = gate / 2
    a[rows + np.arange(cols), np.arange(cols)] = gate / 2
    a[rows:, cols:] = 0
    if _lsa is not None:
        r, col_of = _lsa(a)
        col = [0] * n
        for i, j in zip(r, col_of):
            col[i] = int(j)
    else:
        col = _hungarian(a.tolist())
    return [col[i] if col[i] < cols and a[i, col[i]] < big else -1 for i in range(rows)]


class Track:
    __slots__ = ("kf", "state", "track_id", "class_id", "hits", "missed", "score",
                 "first_frame", "last_frame", "last_box", "votes")

    def vote(self, text, score):
        """Text votes as tracker.c: sum of scores per exact text, at most MAX_VOTES texts (a new
        one replaces the weakest when it beats it)."""
        if not text or not score > 0:
            return
        for v in self.votes:
            if v[0] == text:
                v[1] += score
                v[2] += 1
                return
        if len(self.votes) == MAX_VOTES:
            weakest = min(range(len(self.votes)), key=lambda i: (self.votes[i][1], i))
            if self.votes[weakest][1] >= score:
                return
            self.votes[weakest] = [text, score, 1]
        else:
            self.votes.append([text, score, 1])

    def info(self):
        """What an ended track reports (vg_track_info): the best-voted text (first of equals)."""
        best = None
        for v in self.votes:
            if best is None or v[1] > best[1]:
                best = v
        return {"track_id": self.track_id, "class_id": int(self.class_id),
                "first_frame": self.first_frame, "last_frame": self.last_frame,
                "hits": self.hits, "box": [float(c) for c in self.last_box],
                "text": best[0] if best else "", "text_score": best[1] if best else 0.0,
                "votes": best[2] if best else 0}

    def __init__(self, box, score, class_id, frame):
        self.kf = Kalman(box)
        self.state = TENTATIVE
        self.track_id = -1
        self.class_id = class_id
        self.hits = 1
        self.missed = 0
        self.score = score
        self.first_frame = self.last_frame = frame
        self.last_box = np.asarray(box, np.float64)
        self.votes = []


class Tracker:
    def __init__(self, **params):
        unknown = set(params) - set(DEFAULTS)
        if unknown:
            raise ValueError("tracker: unknown parameters %s" % sorted(unknown))
        self.p = dict(DEFAULTS, **params)
        if self.p["low_thresh"] > self.p["high_thresh"]:
            raise ValueError("tracker: low_thresh above high_thresh")
        self.tracks = []
        self.next_id = 1
        self.updates = 0
        self.last_frame = None
        self.ended = []  # info() of the confirmed tracks that ended, oldest first

    def _confirm(self, t):
        t.state = TRACKED
        t.track_id = self.next_id
        self.next_id += 1

    def _associate(self, boxes, classes, tr, det, min_iou, tmatch):
        if not tr or not det:
            return tr, det
        kb = np.array([self.tracks[i].kf.box() for i in tr])
        cost = 1.0 - iou_matrix(kb, boxes[det])
        if self.p["per_class"]:
            same = np.array([[self.tracks[i].class_id == classes[j] for j in det] for i in tr])
            cost = np.where(same, cost, 2.0)
        rm = assign(cost, 1.0 - min_iou)
        used = set()
        left = []
        for i, m in zip(tr, rm):
            if m >= 0:
                tmatch[i] = det[m]
                used.add(m)
            else:
                left.append(i)
        return left, [d for j, d in enumerate(det) if j not in used]

    def update(self, frame, boxes, scores, classes, texts=None):
        """One frame's detections (boxes [N,4] x1y1x2y2, scores [N], classes [N], optional
        texts [(text, text_score)] voted into their tracks) -> track id per detection (-1 = not
        tracked / not confirmed)."""
        if self.last_frame is not None and frame <= self.last_frame:
            raise ValueError("tracker: frame %d after frame %d (must increase)"
                             % (frame, self.last_frame))
        self.last_frame = frame
        p = self.p
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores = np.asarray(scores, np.float64).reshape(-1)
        classes = np.asarray(classes).reshape(-1)
        ids = [-1] * len(scores)
        for t in self.tracks:
            t.kf.predict(t.state != TRACKED)
        tmatch = [-1] * len(self.tracks)
        hi = [i for i in range(len(scores)) if scores[i] >= p["high_thresh"]]
        lo = [i for i in range(len(scores)) if p["low_thresh"] <= scores[i] < p["high_thresh"]]
        conf = [i for i, t in enumerate(self.tracks) if t.state != TENTATIVE]
        left, hi_left = self._associate(boxes, classes, conf, hi, p["match_iou"], tmatch)
        tracked_left = [i for i in left if self.tracks[i].state == TRACKED]
        self._associate(boxes, classes, tracked_left, lo, p["low_match_iou"], tmatch)
        tent = [i for i, t in enumerate(self.tracks) if t.state == TENTATIVE]
        _, new = self._associate(boxes, classes, tent, hi_left, p["tentative_match_iou"], tmatch)
        for i, d in enumerate(tmatch):
            if d < 0:
                continue
            t = self.tracks[i]
            t.kf.update(boxes[d])
            t.missed = 0
            t.hits += 1
            t.last_frame = frame
            t.score = scores[d]
            t.last_box = boxes[d]
            if texts is not None:
                t.vote(*texts[d])
            if t.state == LOST:
                t.state = TRACKED
            if t.state == TENTATIVE and t.hits >= p["min_hits"]:
                self._confirm(t)
        for i, d in enumerate(tmatch):
            if d >= 0:
                ids[d] = self.tracks[i].track_id
        for i in range(len(tmatch) - 1, -1, -1):  # backwards, removal moves the last one in
            if tmatch[i] >= 0:
                continue
            t = self.tracks[i]
            t.missed += 1
            if t.state != TENTATIVE:
                t.state = LOST
            if t.state == TENTATIVE or t.missed > p["max_lost"]:
                if t.state != TENTATIVE:
                    self.ended.append(t.info())
                self.tracks[i] = self.tracks[-1]
                self.tracks.pop()
        for d in new:
            if scores[d] < p["new_track_thresh"]:
                continue
            if len(self.tracks) >= p["max_tracks"]:
                continue
            t = Track(boxes[d], scores[d], classes[d], frame)
            if self.updates == 0 or p["min_hits"] <= 1:
                self._confirm(t)
            if texts is not None:
                t.vote(*texts[d])
            ids[d] = t.track_id
            self.tracks.append(t)
        self.updates += 1
        return ids

    def finish(self):
        """Ends every live track (end of stream), as vg_tracker_finish: confirmed ones are
        reported (removal from the back)."""
        while self.tracks:
            t = self.tracks.pop()
            if t.state != TENTATIVE:
                self.ended.append(t.info())

    def counts(self):
        c = [0, 0, 0]
        for t in self.tracks:
            c[t.state] += 1
        return {"tentative": c[0], "tracked": c[1], "lost": c[2]}
