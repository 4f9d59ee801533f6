/**
 * The one error base of flowstate, and the exit codes it carries (docs/cli.md).
 * Every stage may import this file; it imports nothing.
 */
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

/** A failure the user can act on: printed as one line with no stack, ending the command with `exitCode`. */
export class FlowstateError extends Error {
  override name = 'FlowstateError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.failure,
  ) {
    super(message);
  }
}

/** The command line was given something it cannot take (exit code 2). */
export class UsageError extends FlowstateError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}
