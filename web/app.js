// app.js - the vidgraph dashboard's logic: polls the public API of `vidgraph serve` (system,
// models, streams, runs), shows provider/decoder fallbacks prominently, live annotated frames of
// each stream, per-node timing bars of a run, and an event log fed by server-sent events.
// The token comes from `#token=...` once (then sessionStorage) or a prompt, and travels as the
// Bearer header, also for the event stream (read with fetch) and the frames (fetched as blobs).
'use strict';

const TOKEN_KEY = 'vg_token';
const POLL_MS = 2000;
const FRAME_MS = 250;
const MAX_LOG = 200;

const state = {
  token: null,
  prompted: false,
  streams: new Map(), // id -> {card, img, busy, objectUrl, stats}
  selectedRun: null,
  sse: null,
  lastEventId: null,
};

// ------------------------------------------------------------------ helpers

function $(id) {
  return document.getElementById(id);
}

// el('td', {class: 'num'}, 'text', childNode...) - never sets HTML from data.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fmt(x, digits = 1) {
  return typeof x === 'number' && isFinite(x) ? x.toFixed(digits) : '–';
}

function bytes(n) {
  if (typeof n !== 'number') return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + u[i];
}

function shortProvider(name) {
  return String(name || '').replace(/ExecutionProvider$/, '').replace(/^Tensorrt$/, 'TensorRT');
}

// ------------------------------------------------------------------ token and requests

function loadToken() {
  const m = location.hash.match(/(?:^#|&)token=([^&]*)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  state.token = sessionStorage.getItem(TOKEN_KEY);
}

function askToken() {
  const t = window.prompt('API token for this vidgraph server:', state.token || '');
  if (t !== null) {
    state.token = t.trim();
    sessionStorage.setItem(TOKEN_KEY, state.token);
    restartEvents();
    refreshAll();
  }
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.token) h['Authorization'] = 'Bearer ' + state.token;
  return h;
}

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || ('HTTP ' + status));
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const opts = { method, headers: headers(body ? { 'Content-Type': 'application/json' } : {}) };
  if (body) opts.body = JSON.stringify(body);
  const res = await fetch(path, opts);
  if (res.status === 401) {
    showError('Unauthorized: this server needs a token (open the page with #token=... or press "token").');
    if (!state.prompted) {
      state.prompted = true;
      setTimeout(askToken, 0);
    }
    throw new ApiError(401, 'unauthorized');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) throw new ApiError(res.status, data && data.error, data && data.detail);
  return data;
}

function showError(msg) {
  const b = $('error-banner');
  if (!msg) { b.hidden = true; b.textContent = ''; return; }
  b.hidden = false;
  b.textContent = msg;
}

// ------------------------------------------------------------------ system

const PROVIDER_ORDER = ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider'];

// "TensorRT unavailable: <reason> - running on CUDA" for every provider/decoder that is not
// usable, plus the models' own fallback reasons.
function fallbackLines(info, models) {
  const lines = [];
  const provs = (info.providers || []).slice().sort(
    (a, b) => (PROVIDER_ORDER.indexOf(a.name) + 99) % 99 - (PROVIDER_ORDER.indexOf(b.name) + 99) % 99);
  const firstUsable = provs.find((p) => p.usable);
  const runningOn = firstUsable ? shortProvider(firstUsable.name) : 'nothing';
  for (const p of provs) {
    if (p.usable) continue;
    lines.push([`${shortProvider(p.name)} unavailable: `, p.reason || 'no reason given', ` — running on ${runningOn}`]);
  }
  const decs = info.decoders || [];
  const dec = decs.find((d) => d.usable);
  for (const d of decs) {
    if (d.usable) continue;
    lines.push([`${String(d.name).toUpperCase()} decoder unavailable: `, d.reason || 'no reason given',
      ` — decoding on ${dec ? dec.name.toUpperCase() : 'nothing'}`]);
  }
  for (const m of models || []) {
    for (const f of m.fallback_reasons || []) {
      lines.push([`model ${m.name}: ${shortProvider(f.provider)} not used: `, f.reason || '',
        ` — running on ${shortProvider(m.execution_provider)}`]);
    }
  }
  return lines;
}

function renderFallback(info, models) {
  const b = $('fallback-banner');
  const lines = fallbackLines(info, models);
  b.replaceChildren(...lines.map(([head, reason, tail]) =>
    el('div', { class: 'fallback' }, head, el('span', { class: 'reason-inline' }, reason), tail)));
  b.hidden = lines.length === 0;
}

function renderSystem(info) {
  $('version').textContent = `v${info.version || '?'} · ORT ${(info.onnxruntime || {}).version || '?'}` +
    ` · cuda ${info.build && info.build.cuda ? 'on' : 'off'}`;
  const devs = [];
  if (info.cpu) devs.push(el('li', {}, el('b', {}, 'CPU '), `${info.cpu.model || '?'} (${info.cpu.cores || '?'} cores)`));
  for (const g of info.gpus || []) {
    const used = g.memory_used || 0, total = g.memory_total || 0;
    const pct = total ? Math.round((100 * used) / total) : 0;
    devs.push(el('li', { class: 'gpu' },
      el('b', {}, `GPU ${g.index} `), `${g.name} · cc ${g.compute_capability || '?'} · CUDA driver API ${g.cuda_driver_api || '?'}`,
      el('div', { class: 'mem' }, `memory ${bytes(used)} / ${bytes(total)}`),
      el('div', { class: 'bar' }, el('i', { style: `width:${pct}%` }))));
  }
  if (!(info.gpus || []).length) devs.push(el('li', { class: 'muted' }, 'no GPU'));
  const drv = info.driver || {};
  devs.push(el('li', { id: 'driver-release' }, el('b', {}, 'Driver '),
    drv.release ? drv.release : 'release unknown', drv.reason ? el('div', { class: 'reason' }, drv.reason) : null));
  $('devices').replaceChildren(...devs);
  const jpeg = info.jpeg || {};
  const gpuJpeg = jpeg.device_frames === 'nvjpeg';
  $('jpeg').replaceChildren(el('li', { 'data-encoder': jpeg.device_frames || '' },
    el('span', { class: 'pill ' + (gpuJpeg ? 'ok' : 'bad') }, gpuJpeg ? 'GPU' : 'CPU'), ' ',
    gpuJpeg ? `nvjpeg ${jpeg.nvjpeg_version || ''}` : (jpeg.device_frames || '?'),
    jpeg.reason ? el('div', { class: 'reason' }, jpeg.reason) : null));
  $('providers').replaceChildren(...(info.providers || []).map((p) => el('li', { class: 'provider', 'data-name': p.name },
    el('span', { class: 'pill ' + (p.usable ? 'ok' : 'bad') }, p.usable ? 'usable' : 'unavailable'), ' ',
    shortProvider(p.name), p.reason ? el('div', { class: 'reason' }, p.reason) : null)));
  $('decoders').replaceChildren(...(info.decoders || []).map((d) => el('li', {},
    el('span', { class: 'pill ' + (d.usable ? 'ok' : 'bad') }, d.usable ? 'usable' : 'unavailable'), ' ',
    d.name, d.reason ? el('div', { class: 'reason' }, d.reason) : null)));
}

// ------------------------------------------------------------------ models

function renderModels(models) {
  const rows = models.map((m) => el('tr', {},
    el('td', {}, el('b', {}, m.name), el('div', { class: 'reason' }, m.path || '')),
    el('td', {}, shortProvider(m.execution_provider)),
    el('td', {}, (m.requested_providers || []).join(', ')),
    el('td', {}, m.precision || ''),
    el('td', {}, m.io_binding ? 'yes' : 'no'),
    el('td', {}, m.cuda_graph ? 'yes' : 'no'),
    el('td', { class: 'num' }, fmt(m.load_ms)),
    el('td', { class: 'num' }, m.runs ?? '–'),
    el('td', { class: 'num' }, fmt((m.latency_ms || {}).mean, 2)),
    el('td', { class: 'num' }, fmt((m.latency_ms || {}).p99, 2)),
    el('td', {}, (m.users || []).join(', ')),
    el('td', {}, ...(m.fallback_reasons || []).map((f) =>
      el('div', { class: 'reason' }, `${shortProvider(f.provider)}: ${f.reason}`)))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 12, class: 'muted' }, 'No models loaded.')));
  $('models').tBodies[0].replaceChildren(...rows);
}

// ------------------------------------------------------------------ streams

function streamCard(s) {
  const img = el('img', { alt: `live view of ${s.id}` });
  img.hidden = true;
  const wait = el('span', {}, 'waiting for the first frame…');
  const stats = el('div', { class: 'stats' });
  const stateEl = el('span', { class: 'pill' });
  const remove = el('button', { class: 'danger small', type: 'button', title: `remove ${s.id}`,
    onclick: () => removeStream(s.id) }, 'remove');
  const card = el('div', { class: 'card stream', 'data-id': s.id },
    el('div', { class: 'top' }, el('b', { title: s.url }, s.id), stateEl, remove),
    el('div', { class: 'view' }, img, wait),
    el('div', { class: 'reason url' }, s.url),
    stats);
  return { card, img, wait, stats, stateEl, busy: false, objectUrl: null, frames: 0 };
}

function renderStreamStats(entry, s) {
  entry.stateEl.textContent = s.state;
  entry.stateEl.className = 'pill ' + (s.state === 'running' ? 'ok' : s.state === 'failed' ? 'bad' :
    s.state === 'reconnecting' || s.state === 'starting' ? 'warn' : '');
  const parts = [
    el('span', { class: 'fps' }, 'fps ', el('b', {}, fmt(s.fps))),
    el('span', {}, 'frames ', el('b', {}, s.frames ?? '–')),
    el('span', {}, 'drops ', el('b', {}, s.drops ?? '–')),
    el('span', {}, 'reconnects ', el('b', {}, s.reconnects ?? '–'))];
  if (s.last_error) parts.push(el('span', { class: 'reason' }, s.last_error));
  entry.stats.replaceChildren(...parts);
}

function renderStreams(list) {
  const seen = new Set();
  for (const s of list) {
    seen.add(s.id);
    let entry = state.streams.get(s.id);
    if (!entry) {
      entry = streamCard(s);
      state.streams.set(s.id, entry);
      $('streams').append(entry.card);
    }
    renderStreamStats(entry, s);
  }
  for (const [id, entry] of state.streams) {
    if (seen.has(id)) continue;
    if (entry.objectUrl) URL.revokeObjectURL(entry.objectUrl);
    entry.card.remove();
    state.streams.delete(id);
  }
  $('streams-empty').hidden = state.streams.size > 0;
}

// FNV-1a of a JPEG's bytes: tells a new picture from the one already shown.
function hashBytes(b) {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

// The latest annotated frame of each stream, fetched with the token as a blob; only a new
// picture replaces the shown one.
async function pollFrames() {
  if (document.hidden) return;
  await Promise.all([...state.streams.entries()].map(async ([id, entry]) => {
    if (entry.busy) return;
    entry.busy = true;
    try {
      const res = await fetch(`/api/streams/${encodeURIComponent(id)}/frame.jpg`, { headers: headers(), cache: 'no-store' });
      if (res.ok) {
        const blob = await res.blob();
        const sum = hashBytes(new Uint8Array(await blob.arrayBuffer()));
        if (sum === entry.lastSum) return; // the same picture as last time
        entry.lastSum = sum;
        const url = URL.createObjectURL(blob);
        entry.img.onload = () => {
          if (entry.objectUrl && entry.objectUrl !== url) URL.revokeObjectURL(entry.objectUrl);
          entry.objectUrl = url;
          entry.img.hidden = false;
          entry.wait.hidden = true;
          entry.frames++;
          entry.card.dataset.framesShown = String(entry.frames); // distinct pictures shown
        };
        entry.img.src = url;
      }
    } catch (e) {
      /* the next poll tries again */
    } finally {
      entry.busy = false;
    }
  }));
}

async function addStream(ev) {
  ev.preventDefault();
  const url = $('stream-url').value.trim();
  const id = $('stream-id').value.trim();
  const body = { url };
  if (id) body.id = id;
  if ($('stream-loop').checked) body.loop = true;
  try {
    const s = await api('POST', '/api/streams', body);
    logLine('ui', `stream ${s.id} added (${s.url})`);
    $('stream-url').value = '';
    $('stream-id').value = '';
    showError(null);
    await refreshStreams();
  } catch (e) {
    showError(`Adding the stream failed: ${e.message}`);
  }
}

async function removeStream(id) {
  try {
    await api('DELETE', `/api/streams/${encodeURIComponent(id)}`);
    logLine('ui', `stream ${id} removed`);
    await refreshStreams();
  } catch (e) {
    showError(`Removing stream ${id} failed: ${e.message}`);
  }
}

// ------------------------------------------------------------------ runs

function renderRuns(runs) {
  const rows = runs.map((r) => el('tr', { 'data-id': r.id },
    el('td', {}, r.id),
    el('td', {}, r.graph || ''),
    el('td', {}, el('span', { class: 'pill ' + (r.state === 'succeeded' ? 'ok' : r.state === 'failed' ? 'bad' :
      r.state === 'running' ? 'warn' : '') }, r.state), r.error ? el('div', { class: 'reason' }, r.error) : null),
    el('td', {}, el('div', { class: 'bar' }, el('i', { style: `width:${Math.round(100 * (r.progress || 0))}%` }))),
    el('td', { class: 'num' }, r.frames ?? '–'),
    el('td', { class: 'num' }, fmt(r.fps)),
    el('td', {}, el('button', { class: 'small', type: 'button', onclick: () => selectRun(r.id) }, 'nodes'))));
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 7, class: 'muted' }, 'No runs.')));
  $('runs').tBodies[0].replaceChildren(...rows);
}

function renderRunDetail(run) {
  $('run-detail').hidden = false;
  $('run-detail-title').textContent = `run ${run.id}: ${run.state}, ${run.frames ?? 0} frames, ${fmt(run.fps)} fps`;
  const nodes = run.nodes || [];
  const max = Math.max(1e-6, ...nodes.map((n) => ((n.latency_ms || {}).p99 || (n.latency_ms || {}).mean || 0)));
  $('node-bars').replaceChildren(...nodes.map((n) => {
    const lat = n.latency_ms || {};
    return el('div', { class: 'nodebar', 'data-node': n.id },
      el('span', { title: n.type }, `${n.id} `, el('span', { class: 'muted' }, `${n.type} · ${n.device || ''}`)),
      el('div', { class: 'bar', title: `mean ${fmt(lat.mean, 2)} ms` }, el('i', { style: `width:${Math.round((100 * (lat.mean || 0)) / max)}%` })),
      el('span', { class: 'muted' }, `mean ${fmt(lat.mean, 2)} · p50 ${fmt(lat.p50, 2)} · p99 ${fmt(lat.p99, 2)} ms · ${n.calls ?? 0} calls` +
        (n.execution_provider ? ` · ${shortProvider(n.execution_provider)}` : '')));
  }));
}

async function selectRun(id) {
  state.selectedRun = id;
  try {
    renderRunDetail(await api('GET', `/api/runs/${encodeURIComponent(id)}`));
  } catch (e) {
    showError(`Run ${id}: ${e.message}`);
  }
}

// ------------------------------------------------------------------ events (SSE over fetch)

function logLine(kind, text) {
  const log = $('events');
  const t = new Date().toISOString().slice(11, 23);
  log.prepend(el('li', { 'data-kind': kind }, el('span', { class: 't' }, t),
    el('span', { class: 'k ' + kind }, kind), text));
  while (log.children.length > MAX_LOG) log.lastChild.remove();
}

function summarize(kind, d) {
  if (!d || typeof d !== 'object') return String(d);
  if (kind === 'objects') {
    const objs = d.objects || [];
    const labels = objs.slice(0, 6).map((o) => o.text || o.label || (o.class_id !== undefined ? `class ${o.class_id}` : 'object')).join(', ');
    return `${d.stream ?? ''} frame ${d.frame ?? ''} ${d.node ?? ''}: ${objs.length} objects ${labels}`;
  }
  if (kind === 'stream') {
    const entry = state.streams.get(d.id);
    if (entry && typeof d.fps === 'number') entry.card.querySelector('.fps b').textContent = fmt(d.fps);
    return `${d.id}: ${d.state}${typeof d.fps === 'number' ? `, ${fmt(d.fps)} fps` : ''}`;
  }
  if (kind === 'node') return `${d.node} ${d.state}${d.duration_ms !== undefined ? ` ${fmt(d.duration_ms, 2)} ms` : ''}`;
  if (kind === 'error') return `${d.node ?? ''}: ${d.message ?? ''}`;
  return JSON.stringify(d);
}

function handleEvent(block) {
  let kind = 'message', data = '', id = null;
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') kind = value;
    else if (field === 'data') data += (data ? '\n' : '') + value;
    else if (field === 'id') id = value;
  }
  if (id !== null) state.lastEventId = id;
  if (!data) return;
  let d;
  try { d = JSON.parse(data); } catch (e) { d = data; }
  logLine(kind, summarize(kind, d));
}

async function readEvents(signal) {
  const h = headers({ Accept: 'text/event-stream' });
  if (state.lastEventId) h['Last-Event-ID'] = state.lastEventId;
  const res = await fetch('/api/events', { headers: h, signal, cache: 'no-store' });
  if (!res.ok || !res.body) throw new Error('events: HTTP ' + res.status);
  setEventsState('live', 'ok');
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      handleEvent(buf.slice(0, cut));
      buf = buf.slice(cut + 2);
    }
  }
}

function setEventsState(text, cls) {
  const s = $('events-state');
  s.textContent = text;
  s.className = 'pill ' + (cls || '');
}

function restartEvents() {
  if (state.sse) state.sse.abort();
  const ctl = new AbortController();
  state.sse = ctl;
  let delay = 500;
  (async () => {
    while (!ctl.signal.aborted) {
      try {
        await readEvents(ctl.signal);
        delay = 500;
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      setEventsState('reconnecting', 'warn');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
}

// ------------------------------------------------------------------ polling

async function refreshStreams() {
  const d = await api('GET', '/api/streams');
  renderStreams(d.streams || []);
}

async function refreshAll() {
  try {
    const health = await api('GET', '/api/health');
    const h = $('health');
    h.textContent = `${health.status} · up ${fmt(health.uptime_s, 0)} s`;
    h.className = 'pill ' + (health.status === 'ok' ? 'ok' : 'warn');
    const [info, models, runs] = await Promise.all([
      api('GET', '/api/system/info'), api('GET', '/api/models'), api('GET', '/api/runs')]);
    renderSystem(info);
    renderModels(models.models || []);
    renderFallback(info, models.models || []);
    renderRuns(runs.runs || []);
    // the node bars of the newest run until the user picks another
    if (!state.selectedRun && (runs.runs || []).length) state.selectedRun = runs.runs[runs.runs.length - 1].id;
    await refreshStreams();
    if (state.selectedRun) await selectRun(state.selectedRun);
    if (!$('error-banner').textContent.startsWith('Adding') && !$('error-banner').textContent.startsWith('Removing'))
      showError(null);
    document.body.dataset.loaded = '1';
  } catch (e) {
    const h = $('health');
    h.textContent = 'unreachable';
    h.className = 'pill bad';
    if (!(e instanceof ApiError && e.status === 401)) showError(`The server did not answer: ${e.message}`);
  }
}

function start() {
  loadToken();
  $('token-btn').addEventListener('click', askToken);
  $('add-stream').addEventListener('submit', addStream);
  refreshAll();
  restartEvents();
  setInterval(refreshAll, POLL_MS);
  setInterval(pollFrames, FRAME_MS);
}

start();
