// Opens a flowstate HTML report from its file in headless Chromium (Debian's
// package, driven by playwright-core) and prints {"readyMs": …}: navigation until
// the page's script has drawn everything. Used by scripts/bench.mjs.
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [file, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const start = performance.now();
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ready]', { timeout: 60_000 });
  console.log(JSON.stringify({ readyMs: Math.round(performance.now() - start) }));
} finally {
  await browser.close();
}
