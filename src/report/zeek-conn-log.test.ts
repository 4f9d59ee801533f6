import { describe, expect, test } from 'vitest';
import { type ZeekConnLogRecord, zeekConnLogJsonLines, zeekConnLogTsv, zeekUid } from './zeek-conn-log.js';

/** The connection of Zeek's btest baseline core.history-flip, as our record. */
const FLIPPED_HTTP: ZeekConnLogRecord = {
  tsNs: 1_128_727_435_633_408_000n,
  uid: 'CHhAvVGS1DHFjwGM9',
  origH: '141.42.64.125',
  origP: 56730,
  respH: '125.190.109.199',
  respP: 80,
  durationNs: 1_550_793_000n,
  origBytes: 98,
  respBytes: 9417,
  connState: 'SF',
  localOrig: null,
  localResp: null,
  missedBytes: 0,
  history: '^hADdFaf',
  origPkts: 11,
  origIpBytes: 670,
  respPkts: 10,
  respIpBytes: 9945,
  service: 'http',
};

/** A SYN nobody answered: Zeek leaves duration and byte counts unset. */
const ATTEMPT: ZeekConnLogRecord = {
  tsNs: 1_700_000_000_000_000_000n,
  uid: 'C0000000000000000a',
  origH: '2001:db8::1',
  origP: 40000,
  respH: '2001:db8::2',
  respP: 22,
  durationNs: null,
  origBytes: null,
  respBytes: null,
  connState: 'S0',
  localOrig: true,
  localResp: false,
  missedBytes: 0,
  history: '',
  origPkts: 1,
  origIpBytes: 80,
  respPkts: 0,
  respIpBytes: 0,
};

const OPENED = new Date(Date.UTC(2017, 0, 30, 23, 13, 15));

describe('zeekConnLogTsv', () => {
  test("writes Zeek's conn.log header, the record and #close", () => {
    const text = zeekConnLogTsv([FLIPPED_HTTP], OPENED);
    expect(text).toBe(
      [
        '#separator \\x09',
        '#set_separator\t,',
        '#empty_field\t(empty)',
        '#unset_field\t-',
        '#path\tconn',
        '#open\t2017-01-30-23-13-15',
        '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
        '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]',
        '1128727435.633408\tCHhAvVGS1DHFjwGM9\t141.42.64.125\t56730\t125.190.109.199\t80\ttcp\thttp\t1.550793\t98\t9417\tSF\t-\t-\t0\t^hADdFaf\t11\t670\t10\t9945\t-',
        '#close\t2017-01-30-23-13-15',
        '',
      ].join('\n'),
    );
  });

  test('writes - for unset fields and T/F for booleans', () => {
    const line = zeekConnLogTsv([ATTEMPT], OPENED).split('\n')[8];
    expect(line).toBe(
      '1700000000.000000\tC0000000000000000a\t2001:db8::1\t40000\t2001:db8::2\t22\ttcp\t-\t-\t-\t-\tS0\tT\tF\t0\t-\t1\t80\t0\t0\t-',
    );
  });

  test('writes only the header and #close for no records, with its own close time', () => {
    const closed = new Date(Date.UTC(2024, 11, 31, 1, 2, 3));
    const lines = zeekConnLogTsv([], OPENED, closed).split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[8]).toBe('#close\t2024-12-31-01-02-03');
  });

  test('rounds nanosecond times to the microsecond, as %.6f does', () => {
    const line = zeekConnLogTsv([{ ...FLIPPED_HTTP, tsNs: 1_000_000_000_999_999_600n, durationNs: 1_499n }], OPENED).split('\n')[8];
    expect(line.split('\t').slice(0, 1)).toEqual(['1000000001.000000']);
    expect(line.split('\t')[8]).toBe('0.000001');
  });

  test('escapes cells that would read as unset, empty, or break the line', () => {
    const line = zeekConnLogTsv([{ ...FLIPPED_HTTP, service: 'a\tb', connState: '-', uid: '' }], OPENED).split('\n')[8];
    const cells = line.split('\t');
    expect(cells).toHaveLength(21);
    expect(cells[1]).toBe('(empty)');
    expect(cells[7]).toBe('a\\x09b');
    expect(cells[11]).toBe('\\x2d');
  });
});

describe('zeekConnLogJsonLines', () => {
  test('writes one object per line with Zeek key names and numbers as numbers', () => {
    expect(zeekConnLogJsonLines([FLIPPED_HTTP])).toBe(
      '{"ts":1128727435.633408,"uid":"CHhAvVGS1DHFjwGM9","id.orig_h":"141.42.64.125","id.orig_p":56730,' +
        '"id.resp_h":"125.190.109.199","id.resp_p":80,"proto":"tcp","service":"http","duration":1.550793,' +
        '"orig_bytes":98,"resp_bytes":9417,"conn_state":"SF","missed_bytes":0,"history":"^hADdFaf",' +
        '"orig_pkts":11,"orig_ip_bytes":670,"resp_pkts":10,"resp_ip_bytes":9945}\n',
    );
  });

  test('leaves unset fields out and writes whole seconds as rapidjson does', () => {
    const line = zeekConnLogJsonLines([ATTEMPT]);
    expect(line).toBe(
      '{"ts":1700000000.0,"uid":"C0000000000000000a","id.orig_h":"2001:db8::1","id.orig_p":40000,' +
        '"id.resp_h":"2001:db8::2","id.resp_p":22,"proto":"tcp","conn_state":"S0","local_orig":true,' +
        '"local_resp":false,"missed_bytes":0,"orig_pkts":1,"orig_ip_bytes":80,"resp_pkts":0,"resp_ip_bytes":0}\n',
    );
    expect(JSON.parse(line)).not.toHaveProperty('duration');
  });

  test('writes one line per record and nothing for none', () => {
    expect(zeekConnLogJsonLines([])).toBe('');
    const lines = zeekConnLogJsonLines([FLIPPED_HTTP, ATTEMPT]).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { conn_state: string }).conn_state)).toEqual(['SF', 'S0']);
  });
});

describe('zeekUid', () => {
  test("looks like Zeek's: C and 17 base62 characters", () => {
    for (let id = 0; id < 200; id++) expect(zeekUid(id)).toMatch(/^C[0-9A-Za-z]{17}$/);
  });

  test('is the same for the same flow on every run', () => {
    expect(zeekUid(42)).toBe(zeekUid(42));
    // Pinned: a change here renames every flow in logs users already have.
    expect(zeekUid(1)).toBe('CidOkK9ZbX0Eln6BDS');
  });

  test('differs between flows and between salts', () => {
    const uids = new Set(Array.from({ length: 1000 }, (_, id) => zeekUid(id)));
    expect(uids.size).toBe(1000);
    expect(zeekUid(7, 'a.pcap')).not.toBe(zeekUid(7, 'b.pcap'));
  });
});
