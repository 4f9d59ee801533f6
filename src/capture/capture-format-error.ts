import { FlowstateError } from '../errors.js';

/**
 * A problem with the capture container itself (bad magic, impossible record length,
 * a file cut short): reading cannot go on past it. Per-packet problems never throw;
 * they are decode issues.
 */
export class CaptureFormatError extends FlowstateError {
  override name = 'CaptureFormatError';
  constructor(
    readonly path: string,
    /** 0-based byte offset (in the decompressed stream for gzip input). */
    readonly offset: number,
    /** 1-based frame number of the record being read, 0 when in the file header. */
    readonly frame: number,
    readonly reason: string,
  ) {
    super(`${path}: ${reason} (byte offset ${offset}${frame > 0 ? `, frame ${frame}` : ''})`);
  }
}
