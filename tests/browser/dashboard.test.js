// dashboard.test.js - the headless browser test of the dashboard (web/): Debian's chromium
// driven by playwright-core against a running `vidgraph serve` (started by
// tests/integration/test_dashboard.sh). Checks: the token from #token= is taken and hidden, the
// provider panel and the fallback banner, a live stream showing new frames with its fps, adding
// and removing a stream from the page, the SSE event log, no page errors; saves a screenshot.
//
//   node tests/browser/dashboard.test.js --base http://127.0.0.1:PORT --token T
//        --add-url FILE --live-url FILE [--run-graph NAME --run-input FILE]
//        --out build/artifacts/dashboard.png
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function args() {
  const a = { base: 'http://127.0.0.1:8080', token: '', addUrl: '', liveUrl: '', runGraph: '', runInput: '', out: 'build/artifacts/dashboard.png' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
    if (!(k in a)) throw new Error(`unknown option ${v[i]}`);
    a[k] = v[i + 1];
  }
  return a;
}

const results = [];
async function check(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  const a = args();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vg-chromium-'));
  // a fresh profile (--user-data-dir) every run: playwright passes it for a persistent context
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.VG_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = browser.pages()[0] || await browser.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.setDefaultTimeout(30000); // generous: CI machines are shared; a check only waits as long as it must
  try {
    await page.goto(`${a.base}/#token=${encodeURIComponent(a.token)}`);

    await check('dashboard loads with the token from #token= (and hides it)', async () => {
      await page.waitForSelector('body[data-loaded="1"]');
      assert(!(await page.evaluate(() => location.hash)), 'the token stayed in the URL');
      const kept = await page.evaluate(() => sessionStorage.getItem('vg_token'));
      assert(kept === a.token, 'the token was not kept in sessionStorage');
      const health = await page.textContent('#health');
      assert(/^ok/.test(health), `health shows '${health}'`);
    });

    await check('provider panel lists the CPU provider as usable', async () => {
      const cpu = await page.textContent('#providers li[data-name="CPUExecutionProvider"]');
      assert(/usable/.test(cpu) && !/unavailable/.test(cpu), `CPU provider shows '${cpu}'`);
      const n = await page.locator('#providers li').count();
      assert(n >= 2, `only ${n} providers listed`);
    });

    await check('fallback banner names TensorRT, its reason and what runs instead', async () => {
      await page.waitForSelector('#fallback-banner:not([hidden])');
      const text = await page.textContent('#fallback-banner');
      const api = await page.evaluate(async (t) => (await fetch('/api/system/info', { headers: { Authorization: 'Bearer ' + t } })).json(), a.token);
      const trt = api.providers.find((p) => p.name === 'TensorrtExecutionProvider');
      assert(trt && !trt.usable, 'test premise: TensorRT is usable here');
      assert(text.includes('TensorRT unavailable: '), `banner: ${text}`);
      assert(text.includes(trt.reason.slice(0, 30)), `banner lacks the reason '${trt.reason}'`);
      assert(/running on (CUDA|CPU)/.test(text), `banner does not say what runs instead: ${text}`);
    });

    await check('system panel shows the JPEG encoder of device frames and the driver release', async () => {
      const api = await page.evaluate(async (t) => (await fetch('/api/system/info', { headers: { Authorization: 'Bearer ' + t } })).json(), a.token);
      const jpeg = await page.textContent('#jpeg');
      assert(api.jpeg && api.jpeg.device_frames, 'system info has no jpeg encoder');
      assert(jpeg.includes(api.jpeg.device_frames), `JPEG panel '${jpeg}' lacks '${api.jpeg.device_frames}'`);
      if (api.jpeg.reason) assert(jpeg.includes(api.jpeg.reason.slice(0, 30)), `JPEG panel lacks the reason '${api.jpeg.reason}'`);
      const drv = await page.textContent('#driver-release');
      assert(api.driver, 'system info has no driver');
      const want = api.driver.release || api.driver.reason.slice(0, 30);
      assert(drv.includes(want), `driver line '${drv}' lacks '${want}'`);
    });

    await check('a live stream shows new annotated frames and its fps', async () => {
      // the live stream is added over the API (as another program would), the page picks it up
      let sel = '.card.stream';
      if (a.liveUrl) {
        const r = await page.evaluate(async ([t, url]) => {
          const res = await fetch('/api/streams', { method: 'POST', headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' }, body: JSON.stringify({ url, id: 'cam-live', loop: true }) });
          return [res.status, await res.text()];
        }, [a.token, a.liveUrl]);
        assert(r[0] === 201, `POST /api/streams: ${r[0]} ${r[1]}`);
        sel = '.card.stream[data-id="cam-live"]';
      }
      await page.waitForSelector(sel);
      await page.waitForFunction((s) => Number(document.querySelector(s).dataset.framesShown || 0) >= 3, sel, { timeout: 60000 });
      const size = await page.evaluate((s) => { const i = document.querySelector(s + ' img'); return [i.naturalWidth, i.naturalHeight]; }, sel);
      assert(size[0] > 0 && size[1] > 0, 'the frame image did not decode');
      await page.waitForFunction((s) => parseFloat(document.querySelector(s + ' .fps b').textContent) > 0, sel, { timeout: 60000 });
    });

    await check('adding a stream from the page, then removing it', async () => {
      await page.fill('#stream-url', a.addUrl);
      await page.fill('#stream-id', 'cam-added');
      await page.click('#add-stream button[type=submit]');
      await page.waitForSelector('.card.stream[data-id="cam-added"]');
      const listed = await page.evaluate(async (t) => (await (await fetch('/api/streams', { headers: { Authorization: 'Bearer ' + t } })).json()).streams.map((s) => s.id), a.token);
      assert(listed.includes('cam-added'), `the server lists ${listed}`);
      await page.click('.card.stream[data-id="cam-added"] button.danger');
      await page.waitForSelector('.card.stream[data-id="cam-added"]', { state: 'detached' });
      const after = await page.evaluate(async (t) => (await (await fetch('/api/streams', { headers: { Authorization: 'Bearer ' + t } })).json()).streams.map((s) => s.id), a.token);
      assert(!after.includes('cam-added'), `still listed after removal: ${after}`);
    });

    if (a.runGraph) {
      await check('a run shows its per-node timing bars', async () => {
        const r = await page.evaluate(async ([t, graph, input]) => {
          const res = await fetch('/api/runs', { method: 'POST', headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' }, body: JSON.stringify({ graph, inputs: [input] }) });
          return [res.status, await res.text()];
        }, [a.token, a.runGraph, a.runInput]);
        assert(r[0] === 201, `POST /api/runs: ${r[0]} ${r[1]}`);
        const id = JSON.parse(r[1]).id;
        await page.click(`#runs tr[data-id="${id}"] button`);
        await page.waitForFunction(() => document.querySelectorAll('#node-bars .nodebar').length >= 2, null, { timeout: 60000 });
        const title = await page.textContent('#run-detail-title');
        assert(title.includes(id), `detail shows '${title}'`);
        // one bar per node of the run, with its latency figures
        const api = await page.evaluate(async ([t, rid]) => (await fetch('/api/runs/' + rid, { headers: { Authorization: 'Bearer ' + t } })).json(), [a.token, id]);
        const bars = await page.locator('#node-bars .nodebar').count();
        assert(bars === api.nodes.length, `${bars} bars for ${api.nodes.length} nodes`);
      });
    }

    await check('the event log receives server-sent events', async () => {
      await page.waitForSelector('#events-state.ok');
      await page.waitForFunction(() => document.querySelectorAll('#events li:not([data-kind="ui"])').length >= 1, null, { timeout: 60000 });
    });

    await check('no errors in the page', async () => {
      const real = pageErrors.filter((e) => !/Failed to load resource.*404/.test(e));
      assert(real.length === 0, real.join(' | '));
    });

    fs.mkdirSync(path.dirname(a.out), { recursive: true });
    await page.screenshot({ path: a.out, fullPage: true });
    console.log(`screenshot: ${a.out}`);
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r[1]).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`dashboard test: ${e.stack || e}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
