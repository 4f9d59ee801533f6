import type { Command } from 'commander';
import { annotateCapture, defaultAnnotatedPath } from '../../annotate.js';
import { ExitCode, FlowstateError } from '../../errors.js';
import { formatCount } from '../../report/format-time.js';
import { checksumsOption, parseChecksums, parseSeconds, timeWaitOption } from '../parse-options.js';
import { ProgressBar } from '../progress-bar.js';
import type { CommandContext } from '../cli-io.js';

interface AnnotateOptions {
  out?: string;
  force?: boolean;
  quiet?: boolean;
  timeWait: string;
  checksums: string;
}

const counted = (n: number, noun: string): string => `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;

export function registerAnnotate(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('annotate')
    .description('the captures as one pcapng for Wireshark, every state change and finding a packet comment on its frame')
    .argument('<capture...>', 'pcap or pcapng files (gzip too; not standard input: they are read twice); several are merged by time')
    .option('--out <file>', 'the pcapng to write (default: beside the first capture, NAME.flowstate.pcapng)')
    .option('--force', 'replace a file at --out that flowstate did not write (never one of the captures)')
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(timeWaitOption())
    .addOption(checksumsOption())
    .addHelpText(
      'after',
      '\nEvery frame is copied as it is (bytes, lengths, timestamps and their resolution, interfaces, the\n' +
        'frame\'s own comments); flowstate\'s comments start with "flowstate: ". In Wireshark: a column of\n' +
        'frame.comment, or the filter frame.comment contains "CLOSE_WAIT".\n\n' +
        'Examples:\n  flowstate annotate leak.pcap\n  flowstate annotate leak.pcap --out incident.pcapng --time-wait 240',
    )
    .action(async (captures: string[], options: AnnotateOptions) => {
      const timeWaitSeconds = parseSeconds(options.timeWait, '--time-wait');
      const checksums = parseChecksums(options.checksums);
      const out = options.out ?? defaultAnnotatedPath(captures[0]);
      const progress = terminal.stderrIsTty && !options.quiet ? new ProgressBar(io.stderr) : undefined;
      const controller = new AbortController();
      const stopListening = io.onInterrupt(() => controller.abort());
      const started = process.hrtime.bigint();
      let result: Awaited<ReturnType<typeof annotateCapture>>;
      try {
        result = await annotateCapture(captures, out, {
          timeWaitSeconds,
          checksums,
          force: options.force,
          signal: controller.signal,
          onProgress: progress ? (p) => progress.update(p) : undefined,
        });
      } catch (error) {
        if (controller.signal.aborted) throw new FlowstateError(`interrupted: ${out} was not written`, ExitCode.interrupted);
        throw error;
      } finally {
        progress?.clear();
        stopListening();
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (!options.quiet) {
        const skipped = Object.entries(result.skippedBlocks).map(([type, n]) => `${n} of type ${type}`);
        io.stdout.write(
          `wrote ${out}: ${counted(result.frames, 'frame')} on ${counted(result.interfaces, 'interface')}, ` +
            `${counted(result.commentedFrames, 'frame')} commented (${counted(result.frameTransitions, 'state change')}, ` +
            `${counted(result.comments, 'comment')}); ${counted(result.timerTransitions, 'timer transition')} on no frame; ` +
            `${seconds.toFixed(2)} s\n` +
            (skipped.length === 0 ? '' : `  left out: pcapng blocks that are not packets or interfaces (${skipped.join(', ')})\n`),
        );
      }
      for (const c of result.analysis.captures)
        if (c.error !== null) io.stderr.write(`flowstate: ${c.error}; ${out} holds every frame before it\n`);
      setExit(result.analysis.incomplete === undefined ? ExitCode.ok : ExitCode.failure);
    });
}
