// `flowstate html`: the page written from lab captures, then opened from its file
// in headless Chromium and read as a person would (hover, links, labels).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';
import { CHROMIUM, NO_CHROMIUM_MESSAGE, launch, openReport, screenshot } from './helpers/browser.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-html-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The report of a lab scenario, written from its database. */
async function report(scenario: string, extra: string[] = []): Promise<string> {
  const db = join(dir, `${scenario}.db`);
  if (!existsSync(db)) expect((await flowstate(['analyze', lab(scenario), '--db', db, '--quiet'])).status).toBe(0);
  const out = join(dir, `${scenario}${extra.join('')}.html`);
  const run = await flowstate(['html', db, '--out', out, ...extra]);
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toContain(`wrote ${out}`);
  return out;
}

/** A CSP source for an inline script or style. */
const sha256Source = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The JSON the page was written with. */
function pageData(file: string): { timeline: { states: string[] }; ladders: Array<{ id: number }> } {
  const html = readFileSync(file, 'utf8');
  const json = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null';
  return JSON.parse(json) as { timeline: { states: string[] }; ladders: Array<{ id: number }> };
}

describe('flowstate html writes one self-contained file', () => {
  test('scripts and styles inline, no URL to fetch, the charting library inside', async () => {
    const file = await report('close-wait-leak');
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(http/i);
    expect(html).toContain('@observablehq/plot v0.6.17');
    expect(html).toContain("default-src 'none'");
    expect(statSync(file).size).toBeLessThan(8 * 1024 * 1024);
    // The capture's facts, link types by name.
    expect((pageData(file) as unknown as { captures: Array<Record<string, string>> }).captures[0]['link types']).toBe('1 Ethernet');
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  test('its Content-Security-Policy runs the page’s own scripts by their hashes, and no other inline script', async () => {
    const html = readFileSync(await report('close-wait-leak'), 'utf8');
    const policy = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    const scriptSrc = /script-src ([^;]*)/.exec(policy)?.[1].split(' ') ?? [];
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(3);
    expect(scriptSrc.sort()).toEqual(scripts.map(sha256Source).sort());
    expect(policy).toMatch(/^default-src 'none'; /);
  });

  test('its policy allows no inline style but by hash: the page’s own <style> is one of them, and style attributes none', async () => {
    const html = readFileSync(await report('close-wait-leak'), 'utf8');
    const policy = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    expect(policy).not.toContain('unsafe');
    const styleSrc = /(?:^|; )style-src ([^;]*)/.exec(policy)?.[1].split(' ') ?? [];
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect(styles).toHaveLength(1);
    // The page's own, then the two Plot writes as it draws (checked in Chromium below).
    expect(styleSrc).toHaveLength(3);
    expect(styleSrc).toContain(sha256Source(styles[0]));
    expect(styleSrc.every((s) => /^'sha256-[A-Za-z0-9+/]+=*'$/.test(s))).toBe(true);
    expect(policy).toMatch(/; style-src-attr 'none'(;|$)/);
  });

  test('a capture is analysed on the fly; --flow adds a ladder; a missing flow is an error', async () => {
    const out = join(dir, 'from-capture.html');
    const run = await flowstate(['html', lab('refused'), '--out', out, '--flow', '1']);
    expect(run.status, run.stderr).toBe(0);
    expect(pageData(out).ladders.map((l) => l.id)).toEqual([1]);
    const missing = await flowstate(['html', lab('refused'), '--out', out, '--flow', '999']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('there is no flow 999');
    expect((await flowstate(['html', lab('refused'), '--out', out, '--flow', 'x'])).status).toBe(2);
  });
});

describe('what the page is written with', () => {
  test('pile-ups are exact: many-short’s server holds all 70 TIME_WAIT at the end, as netstat counts them', async () => {
    const file = await report('many-short');
    const { pileUps } = pageData(file) as unknown as {
      pileUps: Array<{ state: string; role: string; label: string; peak: number; total: number; atEnd: number; counts: number[] }>;
    };
    const server = pileUps.find((p) => p.state === 'TIME_WAIT' && p.role === 'server');
    const netstat = JSON.parse(
      (await flowstate(['netstat', join(dir, 'many-short.db'), '--summary', '--json', '--host', '127.42.20.1'])).stdout,
    ) as Record<string, number>;
    expect(server).toMatchObject({ label: '127.42.20.1:8080', peak: netstat.TIME_WAIT, total: 70, atEnd: netstat.TIME_WAIT });
    expect(server?.counts.at(-1)).toBe(netstat.TIME_WAIT);
    // A CLOSE_WAIT that lasts one round trip peaks at 1 though 70 endpoints passed through it.
    expect(pileUps.find((p) => p.state === 'CLOSE_WAIT' && p.role === 'server')).toMatchObject({ peak: 1, total: 70, atEnd: 0 });
  });

  test('a capture that moved: the ladders list the stored transitions, and the page says why', async () => {
    const moved = join(dir, 'moved.pcap');
    const db = join(dir, 'moved.db');
    copyFileSync(lab('close-wait-leak'), moved);
    expect((await flowstate(['analyze', moved, '--db', db, '--quiet'])).status).toBe(0);
    rmSync(moved);
    const out = join(dir, 'moved.html');
    expect((await flowstate(['html', db, '--out', out])).status).toBe(0);
    const data = pageData(out) as unknown as { notes: string[]; ladders: Array<{ rows: unknown[]; after: string[] }> };
    expect(data.notes.join(' ')).toContain(`${moved} is no longer there`);
    expect(data.ladders[0].rows).toEqual([]);
    expect(data.ladders[0].after.join('\n')).toMatch(/client ESTABLISHED → CLOSE_WAIT/);
  });
});

const browserTest = CHROMIUM === undefined ? describe.skip : describe;
if (CHROMIUM === undefined) test.skip(NO_CHROMIUM_MESSAGE, () => undefined);

browserTest('the report in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('close-wait leak: 20 CLOSE_WAIT at the end, hover shows the counts, each client reaches CLOSE_WAIT at the server’s FIN', async () => {
    const file = await report('close-wait-leak');
    const { page, errors, requests } = await openReport(browser, file);
    await screenshot(page, 'close-wait-leak');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);

    // One area per state drawn; LISTEN only on request.
    const states = pageData(file).timeline.states.filter((s) => s !== 'LISTEN' && s !== 'CLOSED');
    expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBe(states.length);
    await page.check('#timeline-listen');
    expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBe(states.length + 1);

    expect(await page.textContent('#timeline-end')).toMatch(/CLOSE_WAIT 20\b/);
    const box = await page.locator('#timeline-svg').boundingBox();
    if (box === null) throw new Error('the timeline is not drawn');
    await page.mouse.move(box.x + box.width - 25, box.y + box.height / 2);
    const tip = page.locator('#timeline-svg g[aria-label="tip"]');
    await tip.waitFor();
    // Near the end of the 47 ms capture: the counts of that instant.
    const tipText = (await tip.textContent()) ?? '';
    expect(Number(/\+(\d+\.\d+) s/.exec(tipText)?.[1])).toBeGreaterThan(0.045);
    expect(tipText).toMatch(/CLOSE_WAIT 20/);
    expect(tipText).toMatch(/total 4[01]/);
    await screenshot(page, 'close-wait-leak-hover');

    const ladders = page.locator('article.ladder');
    expect(await ladders.count()).toBe(20);
    for (let i = 0; i < 20; i++) {
      const titles = await ladders.nth(i).locator('svg title').allTextContents();
      const serverFin = titles.find((t) => /^frame \d+: server → client .*FIN/.test(t));
      const closeWait = titles.find((t) => /^frame \d+: client enters CLOSE_WAIT$/.test(t));
      expect(serverFin, titles.join('\n')).toBeDefined();
      expect(closeWait?.split(':')[0]).toBe(serverFin?.split(':')[0]);
    }

    // The finding links to the ladders it names.
    const link = page.locator('article.finding[data-kind="close-wait-leak"] a').first();
    const target = await link.getAttribute('href');
    expect(target).toMatch(/^#flow-\d+$/);
    expect(await page.locator(target as string).count()).toBe(1);
    expect(await page.locator('#pile-up-table tr[data-state="CLOSE_WAIT"]').first().textContent()).toContain('20');
  });

  test.each(['many-short', 'syn-flood', 'port-reuse', 'simultaneous-close-time-wait', 'midstream'])(
    '%s: drawn without an error or a request, one series per state',
    async (scenario) => {
      const file = await report(scenario);
      const { page, errors, requests } = await openReport(browser, file);
      await screenshot(page, scenario);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const states = pageData(file).timeline.states.filter((s) => s !== 'LISTEN' && s !== 'CLOSED');
      expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBe(states.length);
      expect(await page.locator('article.ladder').count()).toBe(pageData(file).ladders.length);
      if (pageData(file).timeline.states.includes('CLOSED')) {
        await page.check('#timeline-closed');
        expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBe(states.length + 1);
      }
    },
  );

  test('a script that found its way into the page does not run; the page’s own do', async () => {
    const file = await report('close-wait-leak');
    const injected = join(dir, 'injected.html');
    // What a hostile name would do if it ever reached the markup unescaped.
    writeFileSync(
      injected,
      readFileSync(file, 'utf8').replace(
        '<body>',
        '<body><script>document.title = "owned"</script><img src=x onerror="document.title = \'owned\'">' +
          '<style>header { display: none }</style><p id="injected-style" style="display: none">styled</p>',
      ),
    );
    const { page, errors } = await openReport(browser, injected);
    expect(await page.title()).not.toBe('owned');
    expect(errors.join('\n')).toMatch(/Content Security Policy/);
    // Nor does a style: neither an element nor an attribute.
    expect(await page.locator('header').isVisible()).toBe(true);
    expect(await page.locator('#injected-style').isVisible()).toBe(true);
    expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBeGreaterThan(0);
  });

  test.each(['close-wait-leak', 'many-short'])(
    '%s: no style or script the policy refuses, drawn, hovered and redrawn; every <style> is one the policy names',
    async (scenario) => {
      const file = await report(scenario);
      const data = pageData(file) as unknown as { timeline: { states: string[] }; ladders: unknown[]; pileUps: unknown[] };
      const policy = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      // Listening before the page's first script runs: every refusal, whatever directive it falls under.
      // (Page code as text: the tests are compiled without the DOM's types.)
      await page.addInitScript(`
        window.violations = [];
        document.addEventListener('securitypolicyviolation', (e) =>
          window.violations.push(e.effectiveDirective + ' on <' + (e.target?.nodeName ?? '?') + '>: ' + e.sample));
      `);
      try {
        await page.goto(pathToFileURL(file).href);
        await page.waitForSelector('body[data-ready]', { timeout: 30_000 });
        // Redrawn (a new chart, legend and styles each time) and hovered (the tip).
        await page.check('#timeline-listen');
        await page.check('#timeline-closed');
        const box = await page.locator('#timeline-svg').boundingBox();
        if (box === null) throw new Error('the timeline is not drawn');
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.locator('#timeline-svg g[aria-label="tip"]').waitFor();
        expect(await page.evaluate('window.violations')).toEqual([]);

        // Every chart drew: the timeline's areas, a sparkline per pile-up, a ladder per flow.
        const states = data.timeline.states.filter((s) => s !== 'LISTEN' && s !== 'CLOSED');
        expect(await page.locator('#timeline-svg g[aria-label="area"] path').count()).toBeGreaterThanOrEqual(states.length);
        expect(await page.locator('#pile-up-table svg g[aria-label="area"]').count()).toBe(data.pileUps.length);
        expect(await page.locator('article.ladder svg g[aria-label="arrow"]').count()).toBe(data.ladders.length);
        // The state names' colours are set through the CSSOM, which the policy lets through.
        const colour = (await page.locator('#pile-up-table .severity').first().getAttribute('style')) ?? '';
        expect(colour).toMatch(/^color: rgb/);
        expect(await page.evaluate("getComputedStyle(document.querySelector('#pile-up-table .severity')).color")).toBe(
          colour.replace(/^color: (.*);$/, '$1'),
        );

        const texts = await page.evaluate<string[]>("[...document.querySelectorAll('style')].map((s) => s.textContent)");
        const allowed = /(?:^|; )style-src ([^;]*)/.exec(policy)?.[1].split(' ') ?? [];
        expect(new Set(texts.map(sha256Source))).toEqual(new Set(allowed));
        await screenshot(page, `${scenario}-csp`);
      } finally {
        await page.close();
      }
    },
  );

  test('the selector shows one host’s endpoints', async () => {
    const file = await report('close-wait-leak');
    const { page } = await openReport(browser, file);
    const option = page.locator('#timeline-group option', { hasText: 'host 127.42.3.2' });
    await page.selectOption('#timeline-group', (await option.getAttribute('value')) as string);
    expect(await page.textContent('#timeline-end')).toMatch(/: CLOSE_WAIT 20\.$/);
    await screenshot(page, 'close-wait-leak-client-host');
  });
});
