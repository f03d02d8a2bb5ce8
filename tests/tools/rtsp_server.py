#!/usr/bin/env python3
"""A minimal RTSP 1.0 server: a camera on the loopback address for tests (python3 stdlib only).

    python3 tests/tools/rtsp_server.py --file clip.h264 [--port 0] [--fps 25] [--path /cam]

Serves ONE raw H.264 Annex-B elementary stream file, looped and paced at --fps, to any number of
clients at rtsp://127.0.0.1:PORT/PATH. Prints "rtsp_server: listening on rtsp://..." on stdout
once listening, then serves until killed; requests and errors go to stderr.

Supported: OPTIONS, DESCRIBE (SDP with sprop-parameter-sets from the file's first SPS/PPS),
SETUP with RTP/AVP/TCP interleaved transport (RTP on the RTSP connection, RFC 2326 10.12), PLAY,
TEARDOWN, GET_PARAMETER/SET_PARAMETER (keep-alive). RTP (RFC 6184): payload
type 96, single NAL unit packets up to 1400 bytes, FU-A fragments above; the marker bit on the
last packet of an access unit. Every client gets its own stream from the start of the file (so it
begins with SPS/PPS/IDR and decodes cleanly), with random SSRC, sequence and timestamp bases.
Timestamps are presentation times at 90 kHz (one 90000/fps step per picture): with
pic_order_cnt_type 0 the picture order count orders B-frames; otherwise decode order.

Not supported: UDP or multicast transport (SETUP answers 461 Unsupported Transport, so a client
falls back to TCP), RTCP (sender reports are not sent; receiver reports are read and dropped),
PAUSE, seeking, authentication, several tracks, audio, HEVC, STAP-A aggregation, field pictures'
POC details, several SPS/PPS (the last SPS read applies), MMCO 5.
"""
import argparse, base64, os, random, socket, socketserver, struct, sys, threading, time

MTU = 1400


def log(msg):
    print(f"rtsp_server: {msg}", file=sys.stderr, flush=True)


class Bits:
    """Exp-Golomb reader over an RBSP (emulation prevention bytes removed)."""

    def __init__(self, nal):
        self.b = nal.replace(b"\x00\x00\x03", b"\x00\x00")
        self.pos = 8  # after the NAL header byte

    def u(self, n):
        v = 0
        for _ in range(n):
            v = (v << 1) | ((self.b[self.pos >> 3] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self):
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self):
        v = self.ue()
        return (v + 1) // 2 if v & 1 else -(v // 2)


def parse_sps(nal):
    """The fields a slice header needs to reach pic_order_cnt_lsb."""
    r = Bits(nal)
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    sps = {"separate_colour_plane": 0}
    if profile in (100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135):
        chroma = r.ue()
        if chroma == 3:
            sps["separate_colour_plane"] = r.u(1)
        r.ue(), r.ue(), r.u(1)  # bit depths, qpprime_y_zero_transform_bypass
        if r.u(1):  # seq_scaling_matrix_present: skip the lists
            for i in range(8 if chroma != 3 else 12):
                if r.u(1):
                    last = nxt = 8
                    for _ in range(16 if i < 6 else 64):
                        if nxt:
                            nxt = (last + r.se() + 256) % 256
                        last = nxt or last
    sps["log2_max_frame_num"] = r.ue() + 4
    sps["poc_type"] = r.ue()
    if sps["poc_type"] != 0:
        return sps
    sps["log2_max_poc_lsb"] = r.ue() + 4
    r.ue(), r.u(1), r.ue(), r.ue()  # max_num_ref_frames, gaps, width, height
    sps["frame_mbs_only"] = r.u(1)
    return sps


def split_nals(data):
    """Annex-B byte stream -> NAL units (start codes and trailing zero bytes removed)."""
    starts, i = [], data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    ends = [s - 3 for s in starts[1:]] + [len(data)]
    return [data[s:e].rstrip(b"\x00") for s, e in zip(starts, ends) if e > s]


def slice_poc(nal, sps, prev):
    """(picture order count or None, new prev) of a first slice (H.264 8.2.1.1, type 0 only)."""
    if not sps or sps["poc_type"] != 0:
        return None, prev
    try:
        r = Bits(nal)
        r.ue(), r.ue(), r.ue()  # first_mb_in_slice, slice_type, pic_parameter_set_id
        r.u(2 if sps["separate_colour_plane"] else 0)  # colour_plane_id
        r.u(sps["log2_max_frame_num"])  # frame_num
        if not sps["frame_mbs_only"] and r.u(1):  # field_pic_flag
            r.u(1)  # bottom_field_flag
        if nal[0] & 0x1F == 5:
            r.ue()  # idr_pic_id
            prev = (0, 0)
        lsb = r.u(sps["log2_max_poc_lsb"])
    except IndexError:  # a truncated slice
        return None, prev
    (prev_msb, prev_lsb), half = prev, 1 << (sps["log2_max_poc_lsb"] - 1)
    msb = prev_msb + (2 * half if prev_lsb - lsb >= half else
                      -2 * half if lsb - prev_lsb > half else 0)
    return msb + lsb, (msb, lsb) if nal[0] & 0x60 else prev  # prev: reference pictures only


def access_units(nals):
    """Groups NAL units into access units; returns (access units, SPS, PPS, presentation order).

    A new access unit starts at a slice with first_mb_in_slice == 0 or at an AUD/SEI/SPS/PPS
    (types 6-9, 14-18) after the current unit's slices (H.264 7.4.1.2.3, simplified)."""
    aus, cur, has_vcl, sps_nal, pps_nal, sps, pocs = [], [], False, None, None, None, []
    prev = (0, 0)  # prevPicOrderCntMsb, prevPicOrderCntLsb
    for nal in nals:
        t = nal[0] & 0x1F
        first_slice = t in (1, 5) and len(nal) > 1 and nal[1] & 0x80  # ue(v) == 0 is bit "1"
        if has_vcl and (first_slice or t in (6, 7, 8, 9, 14, 15, 16, 17, 18)):
            aus.append(cur)
            cur, has_vcl = [], False
        cur.append(nal)
        if t == 7:
            sps_nal = sps_nal or nal
            sps = parse_sps(nal)
        elif t == 8:
            pps_nal = pps_nal or nal
        elif t in (1, 5) and first_slice:
            has_vcl = True
            poc, prev = slice_poc(nal, sps, prev)
            pocs.append((t == 5, poc))
        elif t in (1, 5):
            has_vcl = True
    if cur and has_vcl:
        aus.append(cur)
    if not aus or not sps_nal or not pps_nal:
        sys.exit("rtsp_server: no H.264 access units with SPS and PPS in the file")
    # presentation index of each access unit: by POC between IDRs, else decode order
    order = list(range(len(aus)))
    if len(pocs) == len(aus) and all(p is not None for _, p in pocs):
        seg = 0
        for i in range(len(aus) + 1):
            if i == len(aus) or (i > seg and pocs[i][0]):
                for rank, j in enumerate(sorted(range(seg, i), key=lambda j: pocs[j][1])):
                    order[j] = seg + rank
                seg = i
    return aus, sps_nal, pps_nal, order


def rtp_packets(nal):
    """Payloads for one NAL unit: itself, or FU-A fragments (RFC 6184 5.6, 5.8)."""
    if len(nal) <= MTU:
        return [nal]
    ind, hdr, body = (nal[0] & 0xE0) | 28, nal[0] & 0x1F, nal[1:]
    chunks = [body[i:i + MTU - 2] for i in range(0, len(body), MTU - 2)]
    return [bytes([ind, hdr | (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)]) + c
            for i, c in enumerate(chunks)]


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.session, self.channel, self.sender = None, 0, None
        self.ssrc, self.seq, self.ts0 = (random.getrandbits(32), random.getrandbits(16),
                                         random.getrandbits(32))
        self.peer = "%s:%d" % self.client_address[:2]

    def send(self, data):
        with self.lock:
            self.wfile.write(data)
            self.wfile.flush()

    def reply(self, cseq, status, headers=(), body=b""):
        lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", "Server: vidgraph-test-rtsp"]
        lines += list(headers) + ([f"Content-Length: {len(body)}"] if body else [])
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        if not status.startswith("200"):
            log(f"{self.peer}: answered {status}")

    def handle(self):
        try:
            while self.handle_one():
                pass
        except (ConnectionError, OSError) as e:
            log(f"{self.peer}: {e}")
        finally:
            self.stop.set()
            if self.sender:
                self.sender.join(1)
            log(f"{self.peer}: connection closed")

    def handle_one(self):
        first = self.rfile.read(1)
        if not first:
            return False
        if first == b"$":  # interleaved data from the client (RTCP receiver reports): drop
            hdr = self.rfile.read(3)
            if len(hdr) < 3:
                return False
            self.rfile.read(struct.unpack("!xH", hdr)[0])
            return True
        line = (first + self.rfile.readline()).decode("latin-1").strip()
        if not line:
            return True
        headers = {}
        while True:
            h = self.rfile.readline().decode("latin-1")
            if not h or not h.strip():
                break
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        self.rfile.read(int(headers.get("content-length", "0")))
        parts = line.split()
        method, url = (parts + ["", ""])[:2]
        cseq = headers.get("cseq", "0")
        log(f"{self.peer}: {method} {url}")
        srv = self.server
        base = f"rtsp://{srv.host}:{srv.port}{srv.path}"
        if method == "OPTIONS":
            self.reply(cseq, "200 OK", ["Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, "
                                        "GET_PARAMETER, SET_PARAMETER"])
        elif method == "DESCRIBE":
            if not url.rstrip("/").endswith(srv.path):
                self.reply(cseq, "404 Not Found")
            else:
                self.reply(cseq, "200 OK", [f"Content-Base: {base}/", "Content-Type: application/sdp"],
                           srv.sdp.encode())
        elif method == "SETUP":
            transport = headers.get("transport", "")
            if "RTP/AVP/TCP" not in transport.upper():
                self.reply(cseq, "461 Unsupported Transport")
            else:
                for p in transport.split(";"):
                    if p.strip().startswith("interleaved="):
                        self.channel = int(p.split("=")[1].split("-")[0])
                self.session = self.session or "%016X" % random.getrandbits(64)
                self.reply(cseq, "200 OK", [
                    f"Transport: RTP/AVP/TCP;unicast;interleaved={self.channel}-{self.channel + 1};"
                    f"ssrc={self.ssrc:08X}", f"Session: {self.session};timeout=60"])
        elif method == "PLAY":
            if not self.session or headers.get("session", "").split(";")[0] != self.session:
                self.reply(cseq, "454 Session Not Found")
            else:
                self.reply(cseq, "200 OK", [f"Session: {self.session}", "Range: npt=0.000-",
                                            f"RTP-Info: url={base}/trackID=0;seq={self.seq};"
                                            f"rtptime={self.ts0}"])
                if not self.sender:
                    self.sender = threading.Thread(target=self.stream, daemon=True)
                    self.sender.start()
        elif method in ("GET_PARAMETER", "SET_PARAMETER"):
            self.reply(cseq, "200 OK", [f"Session: {self.session}"] if self.session else [])
        elif method == "TEARDOWN":
            self.reply(cseq, "200 OK", [f"Session: {self.session}"] if self.session else [])
            return False
        else:
            self.reply(cseq, "501 Not Implemented")
        return True

    def stream(self):
        """The file's access units in a loop, each at its time (decode order, --fps)."""
        srv, n, k, t0 = self.server, len(self.server.aus), 0, time.monotonic()
        step = 90000 / srv.fps
        try:
            while not self.stop.is_set():
                loop, i = divmod(k, n)
                delay = t0 + k / srv.fps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ts = (self.ts0 + round((loop * n + srv.order[i]) * step)) & 0xFFFFFFFF
                payloads = [p for nal in srv.aus[i] for p in rtp_packets(nal)]
                out = []
                for j, p in enumerate(payloads):
                    marker = 0x80 if j == len(payloads) - 1 else 0
                    rtp = struct.pack("!BBHII", 0x80, marker | 96, self.seq, ts, self.ssrc) + p
                    self.seq = (self.seq + 1) & 0xFFFF
                    out.append(struct.pack("!cBH", b"$", self.channel, len(rtp)) + rtp)
                self.send(b"".join(out))
                k += 1
        except (ConnectionError, OSError, ValueError) as e:
            log(f"{self.peer}: stream ended: {e}")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # a restarted server binds the same port at once
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--file", required=True, help="raw H.264 Annex-B elementary stream")
    ap.add_argument("--port", type=int, default=0, help="0: a free port, printed")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--path", default="/cam")
    a = ap.parse_args()
    with open(a.file, "rb") as f:
        aus, sps, pps, order = access_units(split_nals(f.read()))
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.host, srv.port = srv.server_address
    srv.path = "/" + a.path.strip("/")
    srv.fps, srv.aus, srv.order = a.fps, aus, order
    b64 = lambda nal: base64.b64encode(nal).decode()
    srv.sdp = "\r\n".join([
        "v=0", f"o=- {random.getrandbits(32)} 1 IN IP4 127.0.0.1", "s=vidgraph test camera",
        "c=IN IP4 0.0.0.0", "t=0 0", "m=video 0 RTP/AVP 96", "a=rtpmap:96 H264/90000",
        f"a=fmtp:96 packetization-mode=1;profile-level-id={sps[1:4].hex()};"
        f"sprop-parameter-sets={b64(sps)},{b64(pps)}", f"a=framerate:{a.fps:g}",
        "a=control:trackID=0", ""])
    log(f"{os.path.basename(a.file)}: {len(aus)} access units at {a.fps:g} fps")
    print(f"rtsp_server: listening on rtsp://{srv.host}:{srv.port}{srv.path}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
