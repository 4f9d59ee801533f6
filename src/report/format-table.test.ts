import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatCsv, formatTable, terminalText, toJson } from './format-table.js';

/** What a terminal acts on: C0 but line feed and tab, DEL, C1, bidirectional overrides. */
const ACTED_ON = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminalText', () => {
  test('writes escape sequences as visible text: colour, window title (OSC), a one-byte CSI, a carriage return', () => {
    expect(terminalText('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(terminalText('\u001b]0;owned\u0007')).toBe('\\x1b]0;owned\\x07');
    expect(terminalText('\u009b2J')).toBe('\\x9b2J');
    expect(terminalText('ok\rfake')).toBe('ok\\x0dfake');
    expect(terminalText('abc\u202edcba')).toBe('abc\\u202edcba');
    expect(terminalText('del\u007f')).toBe('del\\x7f');
  });

  test('keeps line feeds and tabs, unless the text is one line (a table cell)', () => {
    expect(terminalText('a\n\tb')).toBe('a\n\tb');
    expect(terminalText('a\n\tb', true)).toBe('a\\x0a\\x09b');
  });

  test('leaves other text alone, é and ← and emoji included', () => {
    expect(terminalText('client ← server: é 🙂')).toBe('client ← server: é 🙂');
  });

  test('no string comes out with a character a terminal acts on, and escaping again changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (text, oneLine) => {
        const safe = terminalText(text, oneLine);
        expect(safe).not.toMatch(ACTED_ON);
        if (oneLine) expect(safe).not.toMatch(/[\n\t]/);
        expect(terminalText(safe, oneLine)).toBe(safe);
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatTable prints control characters escaped; CSV and JSON keep them', () => {
  const hostile = 'x\u001b]52;c;b3duZWQ=\u0007\ny';
  test('table: escaped in cells and header, the columns still aligned', () => {
    const table = formatTable(
      ['kind', `h\u001b[2J`],
      [
        [hostile, 1],
        ['b', 22],
      ],
    );
    expect(table).not.toMatch(ACTED_ON);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('x\\x1b]52;c;b3duZWQ=\\x07\\x0ay');
    expect(lines[0]).toContain('h\\x1b[2J');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });

  test('CSV and JSON: the value as stored (JSON escapes it itself)', () => {
    expect(formatCsv(['a'], [[hostile]])).toBe(`a\n"${hostile}"`);
    expect(JSON.parse(toJson([hostile]))).toEqual([hostile]);
    expect(toJson([hostile])).not.toMatch(ACTED_ON);
  });
});
