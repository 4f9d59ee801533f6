/** What the CLI may assume about its terminal. */
export interface Terminal {
  stdoutIsTty: boolean;
  stderrIsTty: boolean;
  /** Colour on stdout: only on a TTY, never with NO_COLOR set (no-color.org). */
  colour: boolean;
  columns: number;
}

export function detectTerminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const stdoutIsTty = process.stdout.isTTY === true;
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return {
    stdoutIsTty,
    stderrIsTty: process.stderr.isTTY === true,
    colour: stdoutIsTty && !noColour && env.TERM !== 'dumb',
    columns: process.stdout.columns ?? 100,
  };
}

export const Colour = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  green: '\u001b[32m',
  cyan: '\u001b[36m',
  dim: '\u001b[2m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
} as const;

export function paint(terminal: Terminal, colour: string, text: string): string {
  return terminal.colour ? `${colour}${text}${Colour.reset}` : text;
}
