// `flowstate hosts` (issue 32): each host's TCP settings read from the wire.
// The lab captures host-syn-retries and host-keepalive (scripts/lab/host-settings.sh)
// carry the configured values beside them; every capture of ../shared/wild must run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hostProfiles } from '../src/host-profiles.js';
import type { HostProfile } from '../src/track/host-settings.js';
import { flowIn } from './helpers/tracker-harness.js';
import { CAPTURES, HAS_WILD, listCaptures, NO_WILD_MESSAGE, WILD } from './helpers/paths.js';
import { flowstate } from './helpers/run-cli.js';

interface Expected {
  hosts: Record<string, Record<string, number>>;
}

describe('settings inferred from the kernel lab equal the configured ones', () => {
  for (const scenario of ['host-syn-retries', 'host-keepalive']) {
    test(scenario, async () => {
      const expected = JSON.parse(readFileSync(join(CAPTURES, `${scenario}.settings.json`), 'utf8')) as Expected;
      const profiles = await hostProfiles([join(CAPTURES, `${scenario}.pcap`)]);
      for (const [host, settings] of Object.entries(expected.hosts)) {
        const profile = profiles.find((p) => p.host === host);
        for (const [name, value] of Object.entries(settings)) expect([name, profile?.settings[name]?.value]).toEqual([name, value]);
      }
    });
  }

  test('a give-up that shows makes tcp_syn_retries exact; this kernel’s default linear timeouts are recognised', async () => {
    const [client] = (await hostProfiles([join(CAPTURES, 'host-syn-retries.pcap')])).filter((p) => p.host === '127.42.40.2');
    expect(client.settings.tcp_syn_retries).toMatchObject({ value: 2, certainty: 'exact', linux_default: 6 });
    expect(client.settings.tcp_syn_linear_timeouts).toMatchObject({ value: 4, linux_default: 4 });
    expect(client.os?.family).toBe('Linux');
  });

  test('keepalive: interval and probes exact from unanswered probes and the RST; idle at most what was seen', async () => {
    const [client] = (await hostProfiles([join(CAPTURES, 'host-keepalive.pcap')])).filter((p) => p.host === '127.42.40.2');
    expect(client.settings.tcp_keepalive_intvl.certainty).toBe('exact');
    expect(client.settings.tcp_keepalive_probes.certainty).toBe('exact');
    expect(client.settings.tcp_keepalive_time.certainty).toBe('consistent');
  });

  test('a connection answered before any give-up claims only a lower bound', async () => {
    const profiles = await hostProfiles([join(CAPTURES, 'syn-sent.pcap')]);
    const claims = profiles.flatMap((p) => (p.settings.tcp_syn_retries ? [p.settings.tcp_syn_retries] : []));
    for (const c of claims) expect(c.certainty).not.toBe('exact');
  });
});

describe('the keepalive detector', () => {
  test('a resend of an unacknowledged last byte is a retransmission, not a keepalive', () => {
    const { c } = flowIn('ESTABLISHED');
    c.client('ACK PSH', { len: 1 });
    // The byte is never acknowledged: the client resends it at snd.nxt − 1.
    for (let i = 0; i < 3; i++) c.client('ACK PSH', { len: 1, seq: c.nextSeq('client') - 1, after: 0.24 * 2 ** i });
    expect(c.finish().findings.filter((f) => f.kind === 'keepalive')).toEqual([]);
  });
});

/** Every value claimed exact shows its evidence: frames in the capture, enough of them to time a timer. */
function checkExact(profiles: readonly HostProfile[], frames: number): void {
  for (const p of profiles)
    for (const [name, s] of Object.entries(p.settings)) {
      if (s.certainty !== 'exact') continue;
      expect(s.evidence.length, `${p.host} ${name}`).toBeGreaterThan(0);
      for (const e of s.evidence) {
        expect(e.frames.length, `${p.host} ${name}: one frame cannot time a timer`).toBeGreaterThanOrEqual(2);
        for (const f of e.frames) expect(f).toBeLessThanOrEqual(frames);
        expect([...e.frames].sort((a, b) => a - b)).toEqual(e.frames);
      }
      expect(s.note, `${p.host} ${name}`).toBeTruthy();
    }
}

describe.skipIf(!HAS_WILD)('every capture of ../shared/wild', () => {
  test.skipIf(HAS_WILD)(NO_WILD_MESSAGE, () => undefined);
  for (const path of listCaptures(WILD)) {
    test(`${path.slice(WILD.length + 1)}: hosts runs, and its exact claims show their evidence`, async () => {
      const run = await flowstate(['hosts', path, '--json']);
      expect(run.stderr).not.toMatch(/internal error/);
      // A capture flowstate cannot read (zstd, snoop, a corrupt header) is the user's error, as analyze says.
      if (run.status === 1) {
        expect(run.stderr).toMatch(/^flowstate: [^\n]+\n$/);
        return;
      }
      expect(run.status).toBe(0);
      const profiles = JSON.parse(run.stdout) as HostProfile[];
      checkExact(profiles, Number.MAX_SAFE_INTEGER);
    }, 120_000);
  }
  test('zeek-echo-connections: no keepalive findings from retransmissions of an unacknowledged byte', async () => {
    const path = listCaptures(WILD).find((p) => p.includes('zeek-echo-connections'));
    if (path === undefined) return;
    const run = await flowstate(['query', '--db', path, "SELECT COUNT(*) AS n FROM findings WHERE kind = 'keepalive'"]);
    expect(run.stdout).toMatch(/\n0\n?$/);
  });
});

test('lab exact claims point at the frames that show them', async () => {
  checkExact(await hostProfiles([join(CAPTURES, 'host-syn-retries.pcap')]), 100);
  checkExact(await hostProfiles([join(CAPTURES, 'host-keepalive.pcap')]), 100);
});
