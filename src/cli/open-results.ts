import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeToDatabase } from '../analyze.js';
import { FlowstateError, UsageError } from '../errors.js';
import { DatabaseReader, isSqliteFile } from '../store/database-reader.js';
import { ScratchDirectory } from '../store/output-file.js';
import type { CliIo } from './cli-io.js';

/** What a command reads when given nothing. */
export const DEFAULT_DATABASE = 'flowstate.db';

/**
 * The one database or capture a command reads, given as its argument or with
 * `--db` (both: they must name the same file), by default flowstate.db.
 */
export function resultsInput(argument: string | undefined, db: string | undefined): string {
  if (argument !== undefined && db !== undefined && argument !== db)
    throw new UsageError(`give the database or capture once, as an argument or with --db, not both (${argument}, ${db})`);
  return argument ?? db ?? DEFAULT_DATABASE;
}

export interface OpenedResults {
  reader: DatabaseReader;
  close(): void;
}

/**
 * Commands that read results take a database or a capture: a capture is analysed
 * into a temporary database first (removed on close).
 */
export async function openResults(input: string, io: Pick<CliIo, 'stdin' | 'stderr'>): Promise<OpenedResults> {
  if (input !== '-' && !existsSync(input))
    throw new FlowstateError(`${input}: no such file (give a database written by flowstate analyze, or a capture)`);
  if (input !== '-' && statSync(input).isDirectory()) throw new FlowstateError(`${input} is a directory, not a capture or a database`);
  if (input !== '-' && isSqliteFile(input)) {
    const reader = new DatabaseReader(input);
    return { reader, close: () => reader.close() };
  }
  const scratch = ScratchDirectory.create();
  const cleanup = (): void => scratch.remove();
  try {
    const database = join(scratch.path, 'capture.db');
    const analysis = await analyzeToDatabase([input], database, { stdin: io.stdin });
    for (const capture of analysis.captures) for (const warning of capture.warnings) io.stderr.write(`flowstate: ${warning}\n`);
    if (analysis.error) io.stderr.write(`flowstate: ${analysis.error.message}; using everything read before it\n`);
    const reader = new DatabaseReader(database);
    return {
      reader,
      close: () => {
        reader.close();
        cleanup();
      },
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
