import type { HostProfile } from '../track/host-settings.js';
import { formatTable } from './format-table.js';

/** Each host's settings as a table, with what its SYN announced and the OS family that fits. */
export function formatHostProfiles(profiles: readonly HostProfile[]): string {
  if (profiles.length === 0) return 'no hosts in this capture';
  return profiles
    .map((p) => {
      const lines = [`host ${p.host}`];
      if (p.os !== null)
        lines.push(`  os: ${p.os.family ?? 'unknown'} (${p.os.basis}; ${p.os.hops} hop${p.os.hops === 1 ? '' : 's'} away)`);
      if (p.syn !== null) {
        const s = p.syn;
        lines.push(
          `  ${s.from}: mss ${s.mss ?? '-'}, window ${s.window}, wscale ${s.window_scale ?? '-'}, sack ${s.sack ? 'yes' : 'no'}, timestamps ${s.timestamps ? 'yes' : 'no'}, ecn ${s.ecn ? 'yes' : 'no'}, ttl ${s.ttl} (flow ${s.flow}, frame ${s.frame})`,
        );
      }
      const rows = Object.entries(p.settings).map(([name, s]) => [
        name,
        s.certainty === 'lower_bound' ? `>= ${s.value}` : String(s.value),
        s.certainty,
        s.linux_default ?? null,
        s.evidence.map((e) => `flow ${e.flow}: ${e.frames.slice(0, 8).join(',')}${e.frames.length > 8 ? ',…' : ''}`).join('; '),
        s.note ?? '',
      ]);
      if (rows.length === 0) lines.push('  (no setting shows in this capture)');
      else
        lines.push(
          formatTable(['setting', 'value', 'certainty', 'linux default', 'evidence (frames)', 'why'], rows)
            .split('\n')
            .map((l) => `  ${l}`)
            .join('\n'),
        );
      return lines.join('\n');
    })
    .join('\n\n');
}
