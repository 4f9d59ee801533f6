import Database from 'better-sqlite3';
import {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  type Stats,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileHead } from '../capture/file-head.js';
import { FlowstateError, UsageError } from '../errors.js';
import { APPLICATION_ID } from './schema.js';

/**
 * What flowstate writes at a path the user names, so that it replaces only a file
 * it can tell it wrote: a database (SQLite with flowstate's application id), an
 * HTML report (its generator tag), or an export it cannot tell from anyone else's.
 */
export type OutputKind = 'database' | 'page' | 'export';

export interface ClaimOptions {
  kind: OutputKind;
  /** Files this run reads: never replaced, whatever `force` says (compared by device and inode). */
  inputs?: readonly string[];
  /** Replace an existing file flowstate cannot tell it wrote (never an input). */
  force?: boolean;
  /** The option that named the path, for messages ("--db"). */
  option?: string;
}

/** The mark an HTML report carries in its head, read back before replacing one. */
export const PAGE_GENERATOR = '<meta name="generator" content="flowstate">';
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** Bytes of a file read to recognise it: SQLite's header, or the head of an HTML page. */
const HEAD_BYTES = 4096;
/** Where SQLite's header keeps `PRAGMA application_id` (big-endian). */
const APPLICATION_ID_OFFSET = 68;
const TOKEN_BYTES = 8;

/** Outputs this process has claimed and not yet published or discarded: cleaned up however the process exits. */
const live = new Set<OutputFile | ScratchDirectory | OutputDirectory>();
let exitHookInstalled = false;

/**
 * One output being written: a lock on the target and a temporary file beside it
 * (unique name, created exclusively), which replaces the target only in `publish`,
 * after an fsync. Until then the target is as it was; `discard` leaves no file.
 */
export class OutputFile {
  private settled = false;

  private constructor(
    /** The path the user gave. */
    readonly path: string,
    readonly temporaryPath: string,
    private readonly lockPath: string,
  ) {}

  /**
   * Checks that `path` may be written (refusing an input, a directory, or a file
   * flowstate did not write unless `force`), takes its lock and creates the
   * temporary file. Throws a FlowstateError naming `path` otherwise.
   */
  static claim(path: string, options: ClaimOptions): OutputFile {
    const option = options.option ?? 'the output';
    if (path === '') throw new UsageError(`${option} needs a file name`);
    const target = resolve(path);
    const existing = statOrUndefined(target);
    const inputs = options.inputs ?? [];
    for (const input of inputs) {
      if (input === '-') continue;
      const read = statOrUndefined(input);
      if (existing !== undefined && read !== undefined && existing.dev === read.dev && existing.ino === read.ino)
        throw new UsageError(
          `${path} is ${input === path ? 'an input' : `the input ${input}`} of this run: flowstate never writes over what it reads; give ${option} another path`,
        );
    }
    if (existing?.isDirectory()) throw new UsageError(`${path} is a directory: give ${option} a file name`);
    if (existing !== undefined && !existing.isFile())
      throw new UsageError(`${path} is not a regular file (a device, FIFO or socket): give ${option} a file name`);
    const directory = existingParent(path, target);
    if (existing !== undefined && existing.size > 0 && !options.force && !writtenByFlowstate(target, options.kind))
      throw new UsageError(
        `${path} exists and is not ${describeKind(options.kind)} flowstate wrote: it was left as it was. Give ${option} another path, or add --force to replace it`,
      );
    const lockPath = join(directory, `.${basename(target)}.lock`);
    takeLock(lockPath, path);
    const token = randomBytes(TOKEN_BYTES).toString('hex');
    const temporaryPath = join(directory, `.${basename(target)}.${token}.tmp`);
    try {
      sweepStaleTemporaries(directory, basename(target));
      closeSync(openSync(temporaryPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644));
    } catch (error) {
      rmSync(lockPath, { force: true });
      throw new FlowstateError(`cannot write ${path}: ${writeFailureReason(error)}`);
    }
    const output = new OutputFile(path, temporaryPath, lockPath);
    live.add(output);
    installExitHook();
    return output;
  }

  /** Writes all of `content` into the temporary file; a failed write (a full disk) removes it and says so, naming the target. */
  write(content: string | Uint8Array): void {
    try {
      writeFileSync(this.temporaryPath, content);
    } catch (error) {
      this.discard();
      throw new FlowstateError(`cannot write ${this.path}: ${writeFailureReason(error)}`);
    }
  }

  /** Makes the temporary file durable and moves it over the target, then releases the lock. */
  publish(): void {
    if (this.settled) throw new Error(`${this.path} was already published or discarded`);
    try {
      const fd = openSync(this.temporaryPath, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(this.temporaryPath, this.path);
      syncDirectory(dirname(resolve(this.path)));
    } catch (error) {
      this.discard();
      throw new FlowstateError(`cannot write ${this.path}: ${writeFailureReason(error)}`);
    }
    this.release();
  }

  /** Removes the temporary file (and any journal SQLite left beside it) and releases the lock; the target is as it was. */
  discard(): void {
    if (this.settled) return;
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${this.temporaryPath}${suffix}`, { force: true });
    this.release();
  }

  /** Whether this output holds the lock at `lockPath`. */
  holds(lockPath: string): boolean {
    return this.lockPath === lockPath;
  }

  private release(): void {
    this.settled = true;
    live.delete(this);
    rmSync(this.lockPath, { force: true });
  }
}

/**
 * A private directory under the system's temporary directory (a capture analysed on
 * the fly, shards merged before an export), removed on `remove` or however the
 * process exits. Its name carries the pid: one left by a killed process is swept by
 * the next one made, once that process is gone.
 */
export class ScratchDirectory {
  private removed = false;

  private constructor(readonly path: string) {}

  static create(): ScratchDirectory {
    sweepDeadScratch();
    const scratch = new ScratchDirectory(mkdtempSync(join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`)));
    live.add(scratch);
    installExitHook();
    return scratch;
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    live.delete(this);
    rmSync(this.path, { recursive: true, force: true });
  }

  /** As an output's: what the exit hook calls. */
  discard(): void {
    this.remove();
  }
}

export interface DirectoryClaimOptions {
  /** Files this run reads: the target is never one of them, nor a directory holding one (compared by device and inode). */
  inputs?: readonly string[];
  /** Whether an existing directory is flowstate's own, to be replaced (a Parquet export's manifest); an empty one always may be. */
  ownedBy: (directory: string) => boolean;
  /** What `ownedBy` recognises, for messages ("a flowstate Parquet export"). */
  what: string;
  /** The option that named the path, for messages ("--out"). */
  option?: string;
}

/**
 * OutputFile's rules for a directory (a Parquet export): a lock beside the target
 * (`.NAME.lock`, the same as a file's), a partial directory with a unique name
 * (`.NAME.<16 hex>.partial`, made by mkdir, which fails if the name exists), scratch
 * files beside it with the same stem, all removed however the process exits and,
 * left by a killed run, swept by the next run into the target once it holds the lock.
 * `publish` moves the previous directory aside, renames the partial one in, then
 * removes the previous one.
 */
export class OutputDirectory {
  private settled = false;

  private constructor(
    /** The path the user gave. */
    readonly path: string,
    /** Where the new directory is written; renamed over the target in `publish`. */
    readonly partialPath: string,
    /** `.NAME.<token>`: the stem of this run's scratch names beside the target. */
    private readonly stem: string,
    private readonly lockPath: string,
    private readonly ownedBy: (directory: string) => boolean,
    private readonly what: string,
  ) {}

  /**
   * Checks that `path` may be written (not a file, not an input nor a directory
   * holding one, empty or flowstate's own), takes its lock, sweeps what killed runs
   * left, and makes the partial directory. Throws a FlowstateError naming `path` otherwise.
   */
  static claim(path: string, options: DirectoryClaimOptions): OutputDirectory {
    const option = options.option ?? 'the output directory';
    if (path === '') throw new UsageError(`${option} needs a directory name`);
    const target = resolve(path);
    const existing = statOrUndefined(target);
    if (existing !== undefined && !existing.isDirectory())
      throw new UsageError(`${path} exists and is not a directory: give ${option} a directory`);
    refuseHoldingAnInput(path, target, existing, options.inputs ?? [], option);
    if (existing !== undefined && readdirSync(target).length > 0 && !options.ownedBy(target))
      throw new UsageError(
        `${path} exists and is not ${options.what} (it is not empty): it was left as it was. Give ${option} another directory, or empty it`,
      );
    const directory = existingParent(path, target);
    const lockPath = join(directory, `.${basename(target)}.lock`);
    takeLock(lockPath, path);
    const stem = join(directory, `.${basename(target)}.${randomBytes(TOKEN_BYTES).toString('hex')}`);
    const partialPath = `${stem}.partial`;
    try {
      sweepStaleTemporaries(directory, basename(target), DIRECTORY_SCRATCH);
      mkdirSync(partialPath, { mode: 0o755 });
    } catch (error) {
      rmSync(lockPath, { force: true });
      throw new FlowstateError(`cannot write ${path}: ${writeFailureReason(error)}`);
    }
    const output = new OutputDirectory(path, partialPath, stem, lockPath, options.ownedBy, options.what);
    live.add(output);
    installExitHook();
    return output;
  }

  /** A scratch file of this run beside the target (`.NAME.<token>.partial.SUFFIX`): removed with the partial directory. */
  scratchPath(suffix: string): string {
    return `${this.partialPath}.${suffix}`;
  }

  /** Makes the partial directory the target: the previous one set aside, the new one renamed in, the previous one removed. */
  publish(): void {
    if (this.settled) throw new Error(`${this.path} was already published or discarded`);
    const target = resolve(this.path);
    const previous = `${this.stem}.previous`;
    try {
      // Checked again: something may have been put there since the claim.
      if (statOrUndefined(target) !== undefined && readdirSync(target).length > 0 && !this.ownedBy(target))
        throw new UsageError(`${this.path} is no longer ${this.what}: it was left as it was`);
      syncTree(this.partialPath);
      if (statOrUndefined(target) !== undefined) renameSync(target, previous);
      renameSync(this.partialPath, target);
      syncDirectory(dirname(target));
    } catch (error) {
      this.discard();
      if (error instanceof FlowstateError) throw error;
      throw new FlowstateError(`cannot write ${this.path}: ${writeFailureReason(error)}`);
    }
    this.removeScratch();
    this.release();
  }

  /** Removes the partial directory and this run's scratch beside it, and releases the lock; the target is as it was. */
  discard(): void {
    if (this.settled) return;
    const target = resolve(this.path);
    const previous = `${this.stem}.previous`;
    // Stopped between publish's two renames: the previous directory goes back (kept aside if it cannot).
    let keep: string | undefined;
    if (statOrUndefined(target) === undefined && statOrUndefined(previous) !== undefined)
      try {
        renameSync(previous, target);
      } catch {
        keep = basename(previous);
      }
    this.removeScratch(keep);
    this.release();
  }

  /** Everything of this run beside the target: `.NAME.<token>.*` (the partial directory, DuckDB's files, the previous directory). */
  private removeScratch(keep?: string): void {
    const directory = dirname(this.stem);
    const prefix = `${basename(this.stem)}.`;
    let entries: string[] = [];
    try {
      entries = readdirSync(directory);
    } catch {
      // The directory went away: nothing of ours is left in it.
    }
    // Retried: a writer's thread may still add a file inside while the directory is removed.
    for (const entry of entries)
      if (entry.startsWith(prefix) && entry !== keep)
        rmSync(join(directory, entry), { recursive: true, force: true, maxRetries: 3, retryDelay: 10 });
  }

  /** Whether this output holds the lock at `lockPath`. */
  holds(lockPath: string): boolean {
    return this.lockPath === lockPath;
  }

  private release(): void {
    this.settled = true;
    live.delete(this);
    rmSync(this.lockPath, { force: true });
  }
}

/**
 * Refuses a target directory that is an input or holds one at any depth (replacing
 * it would delete the input): each input's directories, up to the root, compared
 * with the target by device and inode, so another name or a link does not get past.
 */
function refuseHoldingAnInput(path: string, target: string, existing: Stats | undefined, inputs: readonly string[], option: string): void {
  if (existing === undefined) return;
  for (const input of inputs) {
    if (input === '-') continue;
    let at = resolve(input);
    for (;;) {
      const seen = statOrUndefined(at);
      if (seen !== undefined && seen.dev === existing.dev && seen.ino === existing.ino)
        throw new UsageError(
          `${path} ${at === resolve(input) ? 'is' : 'holds'} the input ${input} of this run: flowstate never replaces what it reads; give ${option} another directory`,
        );
      const up = dirname(at);
      if (up === at) break;
      at = up;
    }
  }
}

/** Every file of a directory written out to the disk, then the directories' entries, before it is renamed into place. */
function syncTree(root: string): void {
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile()) {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } else if (entry.isDirectory()) syncDirectory(path);
  }
  syncDirectory(root);
}

const SCRATCH_PREFIX = 'flowstate-scratch-';
const SCRATCH_NAME = /^flowstate-scratch-(\d+)-[A-Za-z0-9]{6}$/;

function sweepDeadScratch(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = SCRATCH_NAME.exec(entry)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid)))
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Whether the file at `path` is one flowstate wrote, of this kind (by content, not by name). */
export function writtenByFlowstate(path: string, kind: OutputKind): boolean {
  const head = fileHead(path, HEAD_BYTES);
  if (kind === 'page') return head.toString('utf8').includes(PAGE_GENERATOR);
  if (kind === 'export') return false;
  if (head.length < 100 || !head.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) return false;
  if (head.readUInt32BE(APPLICATION_ID_OFFSET) === APPLICATION_ID) return true;
  return isEarlierFlowstateDatabase(path);
}

/** Databases written before the application id was set: an SQLite file whose meta table names a flowstate version. */
function isEarlierFlowstateDatabase(path: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const row = db.prepare("SELECT value FROM meta WHERE key = 'flowstate_version'").get();
    return row !== undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

function describeKind(kind: OutputKind): string {
  return kind === 'database' ? 'a database' : kind === 'page' ? 'an HTML report' : 'an export';
}

/** The directory a target goes in, where its lock and temporary files go: it must exist. */
function existingParent(path: string, target: string): string {
  const directory = dirname(target);
  const parent = statOrUndefined(directory);
  if (parent === undefined) throw new FlowstateError(`cannot write ${path}: the directory ${directory} does not exist`);
  if (!parent.isDirectory()) throw new FlowstateError(`cannot write ${path}: ${directory} is not a directory`);
  return directory;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

interface LockHolder {
  pid: number;
  host: string;
}

/**
 * Takes the lock file beside a target: created exclusively, holding the writer's
 * pid and host. A lock whose process is gone (on this host) is stale and taken over;
 * a live one, or one from another host, is a clear refusal.
 */
function takeLock(lockPath: string, path: string): void {
  const holder = `${JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockHolder)}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new FlowstateError(`cannot write ${path}: ${writeFailureReason(error)}`);
      const other = readHolder(lockPath);
      if (other !== undefined && !isStale(other, lockPath))
        throw new FlowstateError(
          `another flowstate run (pid ${other.pid}${other.host === hostname() ? '' : ` on ${other.host}`}) is writing ${path}: wait for it to finish, or remove ${lockPath} if it is not running`,
        );
      rmSync(lockPath, { force: true });
      continue;
    }
    try {
      writeSync(fd, holder);
    } finally {
      closeSync(fd);
    }
    return;
  }
  throw new FlowstateError(`another flowstate run took ${lockPath} first: ${path} is being written`);
}

function readHolder(lockPath: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? { pid: parsed.pid, host: parsed.host } : undefined;
  } catch {
    // Half-written by a process that died at once: nobody holds it.
    return undefined;
  }
}

/**
 * A lock is stale when its process is gone. Our own pid in a lock this process does
 * not hold is a dead process's (a container restarted with the same pid).
 */
function isStale(holder: LockHolder, lockPath: string): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid)
    return ![...live].some((output) => (output instanceof OutputFile || output instanceof OutputDirectory) && output.holds(lockPath));
  return !isAlive(holder.pid);
}

/**
 * Temporary files of this target left by a run that was killed: safe to remove
 * while we hold the target's lock (no live run writes them). Earlier versions
 * named them by pid, `.NAME.PID.tmp` and `.NAME.PID.merge.tmp`.
 */
function sweepStaleTemporaries(directory: string, name: string, temporary = TEMPORARY_FILE): void {
  const prefix = `.${name}.`;
  for (const entry of readdirSync(directory)) {
    if (entry.startsWith(prefix) && temporary.test(entry.slice(prefix.length)))
      rmSync(join(directory, entry), { recursive: true, force: true });
  }
}

/** What follows `.NAME.` in an OutputFile's temporary file (and its SQLite journals). */
const TEMPORARY_FILE = /^(?:[0-9a-f]{16}|\d+|\d+\.merge)\.tmp(?:-journal|-wal|-shm)?$/;
/**
 * What follows `.NAME.` in an OutputDirectory's scratch: the partial directory, the
 * previous directory set aside while the new one is renamed in, and the files the
 * writer keeps beside them (DuckDB's `.duckdb`, `.duckdb.wal`, `.duckdb.tmp`). Earlier
 * versions named the partial directory by pid, `.NAME.PID.partial`.
 */
const DIRECTORY_SCRATCH = /^(?:[0-9a-f]{16}|\d+)\.(?:partial|previous)(?:\.[a-z]+(?:\.[a-z]+)?)?$/;

/** The rename is durable only once the directory entry is. Some file systems cannot fsync a directory: nothing more to do there. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on file systems without directory fsync.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why a write failed, in words: "no space left on the device". */
export function writeFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    ENOENT: 'the directory does not exist',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'it is a directory',
  };
  return (code !== undefined ? reasons[code] : undefined) ?? (error as Error).message;
}

/** However the process ends (an uncaught error, process.exit), no temporary file or lock of ours stays behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const output of [...live]) output.discard();
  });
}
