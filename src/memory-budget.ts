// The tracker's default memory budget, sized to the machine this process runs on.
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

const MIB = 1024 * 1024;
/** Never less than this, whatever the machine: small captures must not evict. */
export const LEAST_MEMORY_BUDGET = 64 * MIB;

/** What the default budget was made of, for `--help` and the docs. */
export interface MachineMemory {
  /** os.totalmem(), or the cgroup's limit when it is lower (a container). */
  memory: number;
  /** V8's heap limit for this process (--max-old-space-size, or V8's own choice). */
  heapLimit: number;
  /** The default budget: min(memory / 4, heapLimit / 2), at least LEAST_MEMORY_BUDGET. */
  budget: number;
}

/**
 * The default memory budget of connection state: a quarter of the machine's memory (or of
 * its cgroup limit when lower), so that a run leaves room for the page cache, SQLite and
 * whatever else the machine runs; and at most half of V8's heap limit, because the
 * connections live on V8's heap and past that limit V8 ends the process with a fatal
 * out-of-memory error (the other half is for the rest of the run: the writer's batches,
 * garbage not yet collected). docs/scale.md has the figures.
 */
export function machineMemory(): MachineMemory {
  const constrained = process.constrainedMemory?.() ?? 0;
  const total = totalmem();
  // No cgroup limit shows as 0, or as a huge number (2^63 - 4096 in cgroup v1).
  const memory = constrained > 0 && constrained < total ? constrained : total;
  const heapLimit = getHeapStatistics().heap_size_limit;
  const budget = Math.max(LEAST_MEMORY_BUDGET, Math.floor(Math.min(memory / 4, heapLimit / 2)));
  return { memory, heapLimit, budget };
}

export function defaultMemoryBytes(): number {
  return machineMemory().budget;
}

/** A size as users write it: "512M", "1G", "1.5GiB", "800MB", "65536" (bytes); K, M, G, T are powers of 1024. */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  const power = ' kmgt'.indexOf(match[2].toLowerCase() || ' ');
  const bytes = Math.round(Number(match[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** "1.0 GiB", "512 MiB", "800 KiB": how a budget is shown. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 1024 * MIB],
    ['MiB', MIB],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size) return `${(bytes / size).toFixed(bytes % size === 0 ? 0 : 1)} ${unit}`;
  }
  return `${bytes} bytes`;
}
