import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { hostProfiles, hostProfilesOfDatabase } from '../../host-profiles.js';
import { formatHostProfiles } from '../../report/host-profile.js';
import { toJson } from '../../report/format-table.js';
import { DatabaseReader, isSqliteFile } from '../../store/database-reader.js';
import { ExitCode, FlowstateError } from '../../errors.js';
import { resultsInput } from '../open-results.js';
import { parseHost } from '../parse-options.js';
import type { CommandContext } from '../cli-io.js';

export function registerHosts(program: Command, { io, setExit }: CommandContext): void {
  program
    .command('hosts')
    .description("what each host's TCP stack was set to, read from what it did on the wire: SYN retries, keepalive, SYN options, OS family")
    .argument('[input]', 'database (its captures are read again) or capture; default flowstate.db')
    .option('--db <file>', 'the same, as an option')
    .option('--host <ip>', 'only this host')
    .option('--json', 'an array of {host, settings: {name: {value, certainty, evidence, note}}, os, syn}')
    .addHelpText(
      'after',
      '\nExamples:\n  flowstate hosts captures/syn-sent.pcap\n  flowstate hosts --db captures/keepalive.pcap --json\n  flowstate hosts captures/refused.pcap --host 127.42.13.1',
    )
    .action(async (input: string | undefined, options: { db?: string; host?: string; json?: boolean }) => {
      const path = resultsInput(input, options.db);
      const only = options.host === undefined ? undefined : parseHost(options.host);
      if (path !== '-' && !existsSync(path))
        throw new FlowstateError(`${path}: no such file (give a database written by flowstate analyze, or a capture)`);
      if (path !== '-' && statSync(path).isDirectory()) throw new FlowstateError(`${path} is a directory, not a capture or a database`);
      let profiles;
      if (path !== '-' && isSqliteFile(path)) {
        const reader = new DatabaseReader(path);
        try {
          const result = await hostProfilesOfDatabase(reader);
          if (typeof result === 'string') throw new FlowstateError(`cannot read the database's captures again: ${result}`);
          profiles = result;
        } finally {
          reader.close();
        }
      } else profiles = await hostProfiles([path], io.stdin);
      if (only !== undefined) profiles = profiles.filter((p) => p.host === only);
      io.stdout.write(options.json ? `${toJson(profiles, 2)}\n` : `${formatHostProfiles(profiles)}\n`);
      setExit(ExitCode.ok);
    });
}
