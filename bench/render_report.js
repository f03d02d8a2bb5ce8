// render_report.js - renders bench/report.html to a PNG with Debian's chromium driven by
// playwright-core (as tests/browser/ does; no browser download, no network: the report is one
// self-contained file). Fails when the page has an error or no chart.
//
//   node bench/render_report.js [bench/report.html] [bench/report.png]
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const html = path.resolve(process.argv[2] || 'bench/report.html');
  const png = path.resolve(process.argv[3] || 'bench/report.png');
  const browser = await chromium.launch({
    executablePath: process.env.VG_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu'],
  });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('file://' + html);
    const charts = await page.locator('svg').count();
    if (charts < 1) errors.push('no SVG chart in the report');
    await page.screenshot({ path: png, fullPage: true });
    console.log(`render_report: ${charts} charts, wrote ${png}`);
  } finally {
    await browser.close();
  }
  if (errors.length) {
    console.error('render_report: ' + errors.join('; '));
    process.exit(1);
  }
})().catch((e) => {
  console.error('render_report: ' + e.message);
  process.exit(1);
});
