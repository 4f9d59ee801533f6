// The certainty model in every output (issue 29): each endpoint state is observed,
// inferred (with its evidence) or UNKNOWN, and netstat, flow, timeline and the HTML
// report say which, on lab captures that have inferred states.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lab } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowstate-certainty-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Entry {
  proto: string;
  local: string;
  remote: string;
  state: string;
  flow: number;
  inferred: boolean;
}

async function run(args: string[]): Promise<string> {
  const result = await flowstate(args);
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const databases = new Map<string, string>();
async function database(scenario: string): Promise<string> {
  let db = databases.get(scenario);
  if (db === undefined) {
    db = join(dir, `${scenario}.db`);
    await run(['analyze', lab(scenario), '--db', db, '--quiet']);
    databases.set(scenario, db);
  }
  return db;
}

describe('netstat', () => {
  test('midstream: both ends inferred (no SYN seen); --json says so, the table marks them, --summary counts how many are inferred', async () => {
    const db = await database('midstream');
    const all = JSON.parse(await run(['netstat', db, '--all', '--json'])) as Entry[];
    expect(all.map((e) => `${e.state} ${e.inferred}`)).toEqual(['CLOSED true', 'TIME_WAIT true']);
    // The contract's keys, in order: `inferred` last.
    expect(Object.keys(all[0])).toEqual(['proto', 'local', 'remote', 'state', 'flow', 'inferred']);
    const table = (await run(['netstat', db])).split('\n');
    expect(table.find((l) => l.includes('TIME_WAIT'))).toMatch(/TIME_WAIT\s+1\s+inferred$/);
    const summary = await run(['netstat', db, '--summary']);
    expect(summary.split('\n')[0]).toMatch(/^State\s+Count\s+Inferred$/);
    expect(summary).toMatch(/TIME_WAIT\s+1\s+1/);
    // --summary --json keeps its { STATE: count } contract, inferred ones included.
    expect(JSON.parse(await run(['netstat', db, '--summary', '--json']))).toEqual({ TIME_WAIT: 1 });
    // --observed-only: nothing in this capture is seen for certain at its end.
    expect(JSON.parse(await run(['netstat', db, '--observed-only', '--json']))).toEqual([]);
    expect(JSON.parse(await run(['netstat', db, '--summary', '--json', '--observed-only']))).toEqual({});
  });

  test('fin-behind-hole: observed endpoints stay unmarked, the listener is inferred; --observed-only keeps exactly the observed', async () => {
    const db = await database('fin-behind-hole');
    const entries = JSON.parse(await run(['netstat', db, '--json'])) as Entry[];
    expect(entries.map((e) => `${e.state} ${e.inferred}`)).toEqual(['LISTEN true', 'ESTABLISHED false', 'FIN_WAIT1 false']);
    const observed = JSON.parse(await run(['netstat', db, '--json', '--observed-only'])) as Entry[];
    expect(observed).toEqual(entries.filter((e) => !e.inferred));
    const summary = await run(['netstat', db, '--summary', '--observed-only']);
    expect(summary.split('\n')[0]).toMatch(/^State\s+Observed$/);
    expect(summary).not.toContain('LISTEN');
  });

  test('an unanswered SYN’s receiver, which sent nothing and never changed state, is no endpoint: syn-sent lists the two clients only', async () => {
    const db = await database('syn-sent');
    const flows: unknown = JSON.parse(
      await run(['query', 'SELECT server_packets, server_state FROM flows ORDER BY id', '--db', db, '--format', 'json']),
    );
    expect(flows).toEqual([
      { server_packets: 0, server_state: 'UNKNOWN' },
      { server_packets: 0, server_state: 'UNKNOWN' },
    ]);
    const entries = JSON.parse(await run(['netstat', db, '--all', '--json'])) as Entry[];
    expect(entries.map((e) => `${e.local} ${e.state}`)).toEqual(['127.42.9.2:49270 SYN_SENT', '127.42.9.2:51158 SYN_SENT']);
    const rows = JSON.parse(await run(['timeline', db, '--all', '--format', 'json'])) as Array<Record<string, number>>;
    expect(rows.every((r) => r.UNKNOWN === undefined)).toBe(true);
  });
});

describe('flow', () => {
  test('syn-ack-not-captured: the ladder marks the inferred states with ~ and gives the evidence; --json has the marks per segment', async () => {
    const db = await database('syn-ack-not-captured');
    const text = await run(['flow', '1', db]);
    const frame2 = text.split('\n').find((l) => /^\S+\s+\S+\s+2\s/.test(l));
    expect(frame2).toMatch(/ESTABLISHED~\s+ESTABLISHED\s*$/);
    expect(text).toContain('~: state inferred, not seen in the capture; the evidence:');
    expect(text).toMatch(
      /~ client SYN_SENT → ESTABLISHED at frame 2, inferred: SYN-ACK not captured; the client's ACK in frame 2 proves it arrived/,
    );
    expect(text).toMatch(/~ server UNKNOWN → SYN_RECV at frame 2, inferred: /);
    // Frame 1 is seen: no mark.
    expect(text.split('\n').find((l) => /^\S+\s+\S+\s+1\s/.test(l))).not.toContain('~');

    const json = JSON.parse(await run(['flow', '1', db, '--json'])) as {
      transitions: Array<{ endpoint: string; to_state: string; inferred: number; cause: string }>;
      segments: Array<{ frame: number; clientState: string; clientInferred: boolean; serverInferred: boolean }>;
    };
    expect(json.segments.find((s) => s.frame === 2)).toMatchObject({
      clientState: 'ESTABLISHED',
      clientInferred: true,
      serverInferred: false,
    });
    expect(json.segments.find((s) => s.frame === 7)).toMatchObject({ clientInferred: false });
    expect(json.transitions.filter((t) => t.inferred === 1).map((t) => `${t.endpoint} ${t.to_state}`)).toEqual([
      'server SYN_RECV',
      'client ESTABLISHED',
    ]);
  });

  test('an end state inferred though the move into it was seen says why: syn-flood (a SYN-ACK never answered), fin-behind-hole (a FIN held behind a hole)', async () => {
    const flood = await run(['flow', '1', await database('syn-flood')]);
    expect(flood).toMatch(/ends ESTABLISHED \(inferred\)/);
    expect(flood).toMatch(
      /~ client SYN_SENT → ESTABLISHED at frame 2, inferred: the SYN-ACK in frame 2 was sent, and nothing \S+ sent after it was captured to show it arrived/,
    );
    const hole = await run(['flow', '1', await database('fin-behind-hole')]);
    expect(hole).toMatch(/~ server ends ESTABLISHED, inferred: its peer sent a FIN that nothing shows arriving/);
    // The client's FIN_WAIT1 is shown by the server's duplicate ACKs after it: observed, no line.
    expect(hole).not.toMatch(/~ client ends/);
  });

  test('a flow with nothing inferred has no ~ and no evidence list (client-close)', async () => {
    const text = await run(['flow', '1', await database('client-close')]);
    expect(text).not.toContain('~');
  });
});

describe('timeline', () => {
  test('midstream: inferred_STATE columns say how many of each count are inferred; --observed-only leaves them out', async () => {
    const db = await database('midstream');
    const rows = JSON.parse(await run(['timeline', db, '--format', 'json'])) as Array<Record<string, number | string>>;
    const first = rows[0];
    expect(first).toMatchObject({ ESTABLISHED: 2, inferred_ESTABLISHED: 2 });
    expect(rows.at(-1)).toMatchObject({ TIME_WAIT: 1, inferred_TIME_WAIT: 1 });
    const observed = JSON.parse(await run(['timeline', db, '--format', 'json', '--observed-only'])) as Array<
      Record<string, number | string>
    >;
    expect(observed.at(-1)).toEqual({ time: rows.at(-1)?.time, offset_s: rows.at(-1)?.offset_s });
    const table = await run(['timeline', db]);
    expect(table.split('\n')[0]).toMatch(/inferred_ESTABLISHED/);
  });

  test('syn-ack-not-captured: the client’s ESTABLISHED is inferred at the last packet in netstat and timeline alike', async () => {
    const db = await database('syn-ack-not-captured');
    const rows = JSON.parse(await run(['timeline', db, '--all', '--format', 'json'])) as Array<Record<string, number | string>>;
    const listed = JSON.parse(await run(['netstat', db, '--all', '--json'])) as Entry[];
    const end = rows.at(-1) ?? {};
    for (const e of listed) expect(end[e.state], e.state).toBeGreaterThan(0);
    const inferredAtEnd = listed.filter((e) => e.inferred).length;
    const columns = Object.entries(end).filter(([k]) => k.startsWith('inferred_'));
    expect(columns.reduce((n, [, v]) => n + Number(v), 0)).toBe(inferredAtEnd);
  });
});

describe('html', () => {
  test('the page’s timeline data says how many of each count are inferred, and the page says counts include them', async () => {
    const db = await database('midstream');
    const out = join(dir, 'midstream.html');
    await run(['html', db, '--out', out]);
    const html = readFileSync(out, 'utf8');
    const json = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null';
    const data = JSON.parse(json) as {
      timeline: { groups: Array<{ label: string; counts: Record<string, number[]>; inferred: Record<string, number[]> }> };
    };
    const all = data.timeline.groups[0];
    expect(all.inferred.ESTABLISHED).toEqual(all.counts.ESTABLISHED);
    expect(all.inferred.TIME_WAIT?.at(-1)).toBe(1);
    expect(html).toContain('Counts include inferred states');
  });
});
