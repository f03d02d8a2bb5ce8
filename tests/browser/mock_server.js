// mock_server.js - a stand-in for `vidgraph serve` that speaks the API contract
// (/work/briefs/api-contract.md, docs/API.md) with made-up numbers, for developing the dashboard
// without a build and for checking the browser test itself (`node tests/browser/mock_server.js
// PORT JPEG_DIR [TOKEN]`; the JPEGs of JPEG_DIR are served in turn as the streams' frames). The real test runs against the real server (tests/integration/
// test_dashboard.sh); this file never stands in for it there.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const port = Number(process.argv[2] || 8099);
const jpegs = fs.readdirSync(process.argv[3]).filter((f) => f.endsWith('.jpg')).sort()
  .map((f) => fs.readFileSync(path.join(process.argv[3], f)));
let shown = 0;
const token = process.argv[4] || '';
const web = path.join(__dirname, '..', '..', 'web');
const t0 = Date.now();
const streams = new Map([['cam1', { id: 'cam1', url: 'samples/people.mp4', state: 'running', fps: 25, frames: 0, drops: 0, reconnects: 0, last_error: null }]]);
const clients = new Set();
let seq = 0;

function send(res, status, obj) {
  const body = obj === undefined ? '' : JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

function broadcast(event, data) {
  seq++;
  for (const c of clients) c.write(`id: ${seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

setInterval(() => {
  for (const s of streams.values()) {
    s.frames += 5;
    broadcast('objects', { stream: s.id, frame: s.frames, node: 'nms', objects: [{ box: [10, 10, 40, 80], label: 'person', score: 0.9, track_id: 1, text: null }] });
    broadcast('stream', { id: s.id, state: s.state, fps: s.fps });
  }
}, 200);

const info = {
  version: '0.1.0', build: { cuda: true, ffmpeg: true, sanitize: false },
  cpu: { model: 'Mock CPU', cores: 2 },
  gpus: [{ index: 0, name: 'NVIDIA H200', memory_used: 2e9, memory_total: 1.4e11, compute_capability: '9.0', cuda_driver_api: '13.0' }],
  driver: { release: '580.65.06', reason: '' },
  jpeg: { device_frames: 'nvjpeg', reason: '', nvjpeg_version: '13.0.0', summary: 'jpeg: nvjpeg 13.0.0' },
  onnxruntime: { version: '1.29.0', origin: 'npm' },
  providers: [
    { name: 'TensorrtExecutionProvider', usable: false, reason: 'libnvinfer.so.10: cannot open shared object file: No such file or directory' },
    { name: 'CUDAExecutionProvider', usable: true, reason: '' },
    { name: 'CPUExecutionProvider', usable: true, reason: '' }],
  decoders: [{ name: 'nvdec', usable: true, reason: '' }, { name: 'cpu', usable: true, reason: '' }],
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (!p.startsWith('/api/')) {
    const file = path.join(web, p === '/' ? 'index.html' : p);
    if (!file.startsWith(web) || !fs.existsSync(file)) return send(res, 404, { error: 'not_found', detail: p });
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
    res.writeHead(200, { 'Content-Type': type });
    return res.end(fs.readFileSync(file));
  }
  if (p !== '/api/health' && token && req.headers.authorization !== `Bearer ${token}` && url.searchParams.get('access_token') !== token)
    return send(res, 401, { error: 'unauthorized', detail: 'missing or wrong bearer token' });
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const m = p.match(/^\/api\/streams\/([^/]+)(\/frame\.jpg)?$/);
    if (p === '/api/health') return send(res, 200, { status: 'ok', version: '0.1.0', uptime_s: (Date.now() - t0) / 1000 });
    if (p === '/api/system/info') return send(res, 200, Object.assign({ uptime_s: (Date.now() - t0) / 1000 }, info));
    if (p === '/api/models') return send(res, 200, { models: [{ name: 'det', path: 'models/det.onnx', requested_providers: ['tensorrt', 'cuda', 'cpu'], execution_provider: 'CUDAExecutionProvider', io_binding: true, cuda_graph: false, precision: 'fp32', fallback_reasons: [{ provider: 'TensorrtExecutionProvider', reason: info.providers[0].reason }], inputs: [], outputs: [], load_ms: 812.5, runs: 420, latency_ms: { mean: 3.2, p50: 3.1, p99: 5.9 }, users: ['stream:cam1'] }] });
    if (p === '/api/runs' && req.method === 'POST') return send(res, 201, { id: 'r1' });
    if (p === '/api/runs') return send(res, 200, { runs: [{ id: 'r1', state: 'succeeded', graph: 'people', progress: 1, frames: 300, fps: 120.5, error: null }] });
    if (p === '/api/runs/r1') return send(res, 200, { id: 'r1', state: 'succeeded', graph: 'people', progress: 1, frames: 300, fps: 120.5, error: null, outputs: [], nodes: [
      { id: 'src', type: 'source', device: 'cuda:0', state: 'succeeded', frames: 300, calls: 300, latency_ms: { mean: 0.8, p50: 0.7, p99: 1.5 }, execution_provider: null, fallback_reasons: [] },
      { id: 'det', type: 'infer', device: 'cuda:0', state: 'succeeded', frames: 300, calls: 75, latency_ms: { mean: 3.2, p50: 3.1, p99: 5.9 }, execution_provider: 'CUDAExecutionProvider', fallback_reasons: [] }] });
    if (p === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(': hello\n\n');
      clients.add(res);
      res.on('close', () => clients.delete(res));
      return undefined;
    }
    if (p === '/api/streams' && req.method === 'GET') return send(res, 200, { streams: [...streams.values()] });
    if (p === '/api/streams' && req.method === 'POST') {
      let b;
      try { b = JSON.parse(body); } catch (e) { return send(res, 400, { error: 'bad_json', detail: 'body is not JSON' }); }
      if (typeof b.url !== 'string') return send(res, 400, { error: 'bad_request', detail: "field 'url' must be a string" });
      const id = b.id || `s${streams.size + 1}`;
      const s = { id, url: b.url, state: 'running', fps: 25, frames: 0, drops: 0, reconnects: 0, last_error: null };
      streams.set(id, s);
      return send(res, 201, s);
    }
    if (m && m[2]) {
      if (!streams.has(decodeURIComponent(m[1]))) return send(res, 404, { error: 'not_found', detail: 'no such stream' });
      res.writeHead(200, { 'Content-Type': 'image/jpeg' });
      return res.end(jpegs[shown++ % jpegs.length]);
    }
    if (m && req.method === 'DELETE') {
      return streams.delete(decodeURIComponent(m[1])) ? (res.writeHead(204), res.end()) : send(res, 404, { error: 'not_found', detail: 'no such stream' });
    }
    return send(res, 404, { error: 'not_found', detail: p });
  });
});
server.listen(port, '127.0.0.1', () => console.log(`mock vidgraph serve on http://127.0.0.1:${port}`));
