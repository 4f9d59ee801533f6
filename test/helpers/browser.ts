// Headless Chromium from the system (Debian's package), driven by playwright-core:
// no browser is downloaded. Tests that need it skip where it is absent.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './paths.js';

export const CHROMIUM = [process.env.FLOWSTATE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (path): path is string => path !== undefined && existsSync(path),
);
export const NO_CHROMIUM_MESSAGE =
  'skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set FLOWSTATE_CHROMIUM to its path)';

/** Where the browser tests leave their screenshots, for people to look at. */
export const SCREENSHOTS = join(ROOT, 'test-output', 'html');

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as the page reported them. */
  errors: string[];
  /** Every request the page made other than for its own file. */
  requests: string[];
  /** Milliseconds from navigation to the page's script finishing. */
  readyMs: number;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** Opens a report from its file, as a user double-clicking it would, and waits for it to be drawn. */
export async function openReport(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  const start = performance.now();
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
  return { page, errors, requests, readyMs: performance.now() - start };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
