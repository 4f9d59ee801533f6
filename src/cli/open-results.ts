import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeToDatabase } from '../store/analyze-to-database.js';
import { DatabaseReader, isSqliteFile } from '../store/database-reader.js';
import { CliError } from './cli-error.js';

export interface OpenedResults {
  reader: DatabaseReader;
  /** Whether the input was a capture, analysed into a temporary database just now. */
  analysedNow: boolean;
  close(): void;
}

/**
 * Commands that read results take a database or a capture: a capture is analysed
 * into a temporary database first (removed on close).
 */
export async function openResults(input: string, timeWaitSeconds?: number): Promise<OpenedResults> {
  if (input !== '-' && !existsSync(input)) throw new CliError(`${input}: no such file (give a database written by flowstate analyze, or a capture)`);
  if (input !== '-' && isSqliteFile(input)) {
    const reader = new DatabaseReader(input);
    return { reader, analysedNow: false, close: () => reader.close() };
  }
  const directory = mkdtempSync(join(tmpdir(), 'flowstate-'));
  const cleanup = (): void => rmSync(directory, { recursive: true, force: true });
  try {
    const database = join(directory, 'capture.db');
    const analysis = await analyzeToDatabase([input], database, { timeWaitSeconds });
    if (analysis.error) process.stderr.write(`flowstate: ${analysis.error.message}; using everything read before it\n`);
    const reader = new DatabaseReader(database);
    return {
      reader,
      analysedNow: true,
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
