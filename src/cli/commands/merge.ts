import type { Command } from 'commander';
import { formatCount } from '../../report/format-time.js';
import { toJson } from '../../report/format-table.js';
import { mergeShards } from '../../store/merge.js';
import { ExitCode } from '../../errors.js';
import type { CommandContext } from '../cli-io.js';

interface MergeOptions {
  json?: boolean;
  force?: boolean;
}

export function registerMerge(program: Command, { io, terminal, setExit }: CommandContext): void {
  program
    .command('merge')
    .description('one database from the shard databases of analyze --shard K/N: what one run over the whole capture writes')
    .argument('<out>', 'database to write: replaced only when the new one is complete, and only if flowstate wrote it (never a shard)')
    .argument('<shard...>', 'every shard database of the run, in any order')
    .option('--json', 'print what was written as JSON')
    .option('--force', 'replace a file at OUT that is not a flowstate database (never one of the shards)')
    .addHelpText(
      'after',
      '\nEach shard read the whole capture and tracked the connections its 4-tuple hash gave it;\n' +
        'merge renumbers flows in capture order and makes the per-host findings from all shards together.\n\n' +
        'Example:\n  flowstate analyze big.pcap --shard 0/2 --db s0.db & flowstate analyze big.pcap --shard 1/2 --db s1.db; wait\n' +
        '  flowstate merge big.db s0.db s1.db',
    )
    .action((out: string, shards: string[], options: MergeOptions) => {
      const started = process.hrtime.bigint();
      // On a terminal, the step it is at: a large merge takes as long as an analyze.
      const showStep = terminal.stderrIsTty && !options.json ? (step: string) => io.stderr.write(`\rmerge: ${step}…\u001b[K`) : undefined;
      let result;
      try {
        result = mergeShards(out, shards, showStep, { force: options.force });
      } finally {
        if (showStep) io.stderr.write('\r\u001b[K');
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (options.json) io.stdout.write(`${toJson({ database: out, ...result, elapsed_seconds: seconds }, 2)}\n`);
      else
        io.stdout.write(
          `merged ${result.shards} shards into ${out}: ${formatCount(result.flows)} flows, ${formatCount(result.transitions)} transitions, ` +
            `${formatCount(result.findings)} findings (${seconds.toFixed(1)} s)\n`,
        );
      setExit(ExitCode.ok);
    });
}
