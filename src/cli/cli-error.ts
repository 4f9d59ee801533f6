/** Exit codes, in one place (docs/cli.md). */
export const ExitCode = {
  ok: 0,
  /** Bad input or a runtime failure. */
  failure: 1,
  usage: 2,
  /** `--fail-on` matched a finding. */
  findingsMatched: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can act on: printed as one line, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
  ) {
    super(message);
  }
}
