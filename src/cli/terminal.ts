import type { CliIo } from './cli-io.js';

/** What the CLI may assume about its terminal. */
export interface Terminal {
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  /** Colour on stdout: only on a TTY, never with NO_COLOR set (no-color.org). */
  colour: boolean;
}

export function detectTerminal(io: Pick<CliIo, 'isTTY' | 'env'>): Terminal {
  const stdoutIsTty = io.isTTY.stdout;
  const noColour = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  return {
    stdoutIsTty,
    stderrIsTty: io.isTTY.stderr,
    colour: stdoutIsTty && !noColour && io.env.TERM !== 'dumb',
  };
}

export const Colour = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  dim: '\u001b[2m',
  reset: '\u001b[0m',
} as const;

export function paint(terminal: Terminal, colour: string, text: string): string {
  return terminal.colour ? `${colour}${text}${Colour.reset}` : text;
}
