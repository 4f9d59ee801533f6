/**
 * Unsigned reads without Buffer's argument validation, which costs more than the
 * read itself on the per-packet path. Callers check bounds first.
 */
export function u32be(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

export function u32le(bytes: Uint8Array, at: number): number {
  return ((bytes[at + 3] << 24) | (bytes[at + 2] << 16) | (bytes[at + 1] << 8) | bytes[at]) >>> 0;
}
