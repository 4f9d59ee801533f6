/**
 * `flowstate annotate`: the captures again, as one pcapng whose frames carry
 * flowstate's findings and state changes as packet comments. Two passes, so that
 * memory holds only the words for the few frames that get a comment: the first
 * analyses (analyzeCapture, as `analyze` does, with no database), the second reads
 * the inputs again record by record and streams the copy out.
 */
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type AnalyzeCaptureOptions, analyzeCapture } from './analyze.js';
import { fileHead } from './capture/file-head.js';
import { earliestHead } from './capture/frame-stream.js';
import { OPTION_COMMENT, OPTION_SHB_USERAPPL, PcapngWriter, encodeTextOption } from './capture/pcapng-writer.js';
import { type RawPacket, RawRecordWalker } from './capture/raw-records.js';
import { FlowstateError, UsageError } from './errors.js';
import { FrameNotes, NOTE_PREFIX } from './report/frame-notes.js';
import { OutputFile, writeFailureReason } from './store/output-file.js';
import type { CaptureAnalysis } from './track/capture-analysis.js';
import { VERSION } from './version.js';

export interface AnnotateOptions extends Omit<AnalyzeCaptureOptions, 'stdin' | 'untilNs' | 'beforeRead' | 'onEnd' | 'shard'> {
  /** Replace a file at the output path that flowstate did not write (never one of the captures). */
  force?: boolean;
  /** Aborting stops at once; no output is left. */
  signal?: AbortSignal;
}

export interface Annotation {
  analysis: CaptureAnalysis;
  out: string;
  /** Frames copied, frames given a comment of ours, and our comments (transitions of a frame are one comment, each finding another). */
  frames: number;
  commentedFrames: number;
  comments: number;
  interfaces: number;
  bytes: number;
  /** State changes on frames (all in comments), and timer transitions (on no frame, so in none). */
  frameTransitions: number;
  timerTransitions: number;
  /** pcapng blocks that are not packets or interfaces (name resolution, statistics…), left out, by type. */
  skippedBlocks: Record<string, number>;
}

/** The name written beside the first capture when no output is given: `x.pcap.gz` → `x.flowstate.pcapng`. */
export function defaultAnnotatedPath(capture: string): string {
  const name = basename(capture).replace(/(\.(pcapng|pcap|cap|dmp))?(\.gz)?$/i, '');
  return join(dirname(capture), `${name === '' ? 'capture' : name}.flowstate.pcapng`);
}

/** Bytes of an output's head read to tell a pcapng flowstate wrote (its section header names it). */
const HEAD_BYTES = 64 * 1024;
const USERAPPL = `flowstate ${VERSION}`;

/** Whether `path` is a pcapng whose first section header says flowstate wrote it (shb_userappl). */
export function isFlowstateCapture(path: string): boolean {
  if (!existsSync(path)) return false;
  let head: Buffer;
  try {
    head = fileHead(path, HEAD_BYTES);
  } catch {
    return false;
  }
  if (head.length < 28 || head.readUInt32LE(0) !== 0x0a0d0d0a || head.readUInt32LE(8) !== 0x1a2b3c4d) return false;
  const end = Math.min(head.length, head.readUInt32LE(4)) - 4;
  for (let at = 24; at + 4 <= end;) {
    const code = head.readUInt16LE(at);
    const length = head.readUInt16LE(at + 2);
    if (code === 0 || at + 4 + length > end) return false;
    if (code === OPTION_SHB_USERAPPL) return head.toString('utf8', at + 4, at + 4 + length).startsWith('flowstate ');
    at += 4 + ((length + 3) & ~3);
  }
  return false;
}

/**
 * Writes `out`: every frame of `paths` (merged by time as `analyze` reads them), its
 * bytes, lengths and stored timestamp unchanged, on a copy of its interface (one per
 * input and interface), with the frame's own options and comments, and flowstate's
 * comments added where an endpoint's state changes or a finding starts; the section
 * header's comment sums the run up. Written to a temporary file and renamed into place.
 */
export async function annotateCapture(paths: readonly string[], out: string, options: AnnotateOptions = {}): Promise<Annotation> {
  if (paths.includes('-'))
    throw new UsageError(
      'annotate reads its captures twice (to analyse, then to copy): standard input cannot be read again; save it to a file first',
    );
  const output = OutputFile.claim(out, {
    kind: 'export',
    inputs: paths,
    force: options.force === true || isFlowstateCapture(out),
    option: '--out',
  });
  try {
    const notes = new FrameNotes();
    const signal = options.signal;
    const analysis = await analyzeCapture(paths, notes, {
      ...options,
      beforeRead: () => {
        signal?.throwIfAborted();
        return Promise.resolve();
      },
    });
    signal?.throwIfAborted();
    if (analysis.captures.every((c) => c.packets === 0)) {
      const problem = analysis.captures.map((c) => c.error ?? c.warnings[0]).find((said) => said !== undefined);
      throw new FlowstateError(problem ?? 'the captures hold no frame: nothing to annotate');
    }
    const commentedFrames = notes.commentedFrames();
    const findings = [...notes.findingCounts].map(([kind, n]) => `${kind} ${n}`).join(', ');
    const summary =
      `${USERAPPL} annotate: ${analysis.decode.packets} packets (${analysis.decode.tcpSegments} TCP segments), ` +
      `${notes.flowCount} connections; end states ${notes.endStates()}; findings: ${findings === '' ? 'none' : findings}; ` +
      `${notes.frameTransitions} state changes in the comments of ${commentedFrames} frames (each starting "${NOTE_PREFIX.trim()}"), ` +
      `${notes.timerTransitions} timer transitions (TIME_WAIT → CLOSED after 2MSL) on no frame, so in no comment` +
      (analysis.incomplete === undefined ? '' : `; input incomplete: ${analysis.incomplete}`);
    const copied = await copyWithComments(
      paths,
      output.temporaryPath,
      out,
      analysis.captures.map((c) => c.packets),
      notes,
      summary,
      signal,
    );
    output.publish();
    return {
      analysis,
      out,
      frames: copied.frames,
      commentedFrames: copied.commentedFrames,
      comments: copied.comments,
      interfaces: copied.interfaces,
      bytes: copied.bytes,
      frameTransitions: notes.frameTransitions,
      timerTransitions: notes.timerTransitions,
      skippedBlocks: copied.skippedBlocks,
    };
  } finally {
    output.discard();
  }
}

interface Copied {
  frames: number;
  commentedFrames: number;
  comments: number;
  interfaces: number;
  bytes: number;
  skippedBlocks: Record<string, number>;
}

/** The second pass: each input's first `limits[i]` frames (what the analysis read), merged by time, into a pcapng at `path`. */
async function copyWithComments(
  paths: readonly string[],
  path: string,
  out: string,
  limits: readonly number[],
  notes: FrameNotes,
  summary: string,
  signal: AbortSignal | undefined,
): Promise<Copied> {
  const walkers: RawRecordWalker[] = [];
  let fd: number | undefined;
  try {
    for (const [index, input] of paths.entries()) walkers.push(await RawRecordWalker.open(input, index));
    try {
      fd = openSync(path, 'w');
    } catch (error) {
      throw new FlowstateError(`cannot write ${out}: ${writeFailureReason(error)}`);
    }
    const target = fd;
    const writer = new PcapngWriter((bytes, offset, length) => {
      try {
        let at = offset;
        while (at < offset + length) at += writeSync(target, bytes, at, offset + length - at);
      } catch (error) {
        throw new FlowstateError(`cannot write ${out}: ${writeFailureReason(error)}`);
      }
    });
    const sectionOptions = walkers.flatMap((w) => w.sectionComments.map((text) => encodeTextOption(OPTION_COMMENT, text)));
    sectionOptions.push(encodeTextOption(OPTION_COMMENT, summary), encodeTextOption(OPTION_SHB_USERAPPL, USERAPPL));
    writer.sectionHeader(sectionOptions);
    /** Per input, the output interface id of each of its interfaces, as they are written. */
    const interfaceIds: number[][] = walkers.map(() => []);
    let interfaces = 0;
    const describeInterfaces = (source: number): void => {
      const walker = walkers[source];
      const ids = interfaceIds[source];
      while (ids.length < walker.interfaces.length) {
        const iface = walker.interfaces[ids.length];
        writer.interfaceDescription(iface.linkType, iface.snapLength, iface.options.length === 0 ? [] : [iface.options]);
        ids.push(interfaces++);
      }
    };
    let frames = 0;
    let commentedFrames = 0;
    let comments = 0;
    const write = (p: RawPacket): void => {
      describeInterfaces(p.source);
      const texts = notes.commentsAt(p.source, p.frame);
      let added: Buffer[] | undefined;
      if (texts !== undefined) {
        added = texts.map((text) => encodeTextOption(OPTION_COMMENT, text));
        commentedFrames++;
        comments += texts.length;
      }
      writer.enhancedPacket(
        interfaceIds[p.source][p.interfaceIndex],
        p.tsHigh,
        p.tsLow,
        p.capturedLength,
        p.originalLength,
        p.data,
        p.dataOffset,
        p.options,
        added,
      );
      frames++;
    };
    /** The next packet of input `i` within its limit, or null at its end. */
    const next = async (i: number): Promise<RawPacket | null> => {
      const walker = walkers[i];
      if (walker.frames >= limits[i]) return null;
      for (;;) {
        const p = walker.nextSync();
        if (p !== null) return p;
        signal?.throwIfAborted();
        if (!(await walker.refill())) return null;
      }
    };
    if (walkers.length === 1) {
      const walker = walkers[0];
      const limit = limits[0];
      outer: for (;;) {
        let p = walker.frames < limit ? walker.nextSync() : null;
        while (p !== null) {
          write(p);
          if (walker.frames >= limit) break outer;
          p = walker.nextSync();
        }
        signal?.throwIfAborted();
        if (walker.frames >= limit || !(await walker.refill())) break;
      }
    } else {
      // As forEachFrame merges, so that frame numbers and comments meet.
      const heads: Array<RawPacket | null> = [];
      for (let i = 0; i < walkers.length; i++) heads.push(await next(i));
      for (;;) {
        const earliest = earliestHead(heads);
        if (earliest < 0) break;
        write(heads[earliest] as RawPacket);
        heads[earliest] = await next(earliest);
      }
    }
    for (let i = 0; i < walkers.length; i++) {
      describeInterfaces(i);
      if (walkers[i].frames !== limits[i])
        throw new FlowstateError(
          `${paths[i]}: the copy read ${walkers[i].frames} frames where the analysis read ${limits[i]}: did the file change while it was read?`,
        );
    }
    writer.flush();
    const skipped: Record<string, number> = {};
    for (const walker of walkers)
      for (const [type, count] of walker.skippedBlocks)
        skipped[`0x${type.toString(16)}`] = (skipped[`0x${type.toString(16)}`] ?? 0) + count;
    return { frames, commentedFrames, comments, interfaces, bytes: writer.written, skippedBlocks: skipped };
  } finally {
    if (fd !== undefined) closeSync(fd);
    await Promise.all(walkers.map((w) => w.close().catch(() => undefined)));
  }
}
