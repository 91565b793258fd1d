/** A file that goes into a release archive, with its mode normalised. */
export interface ArchiveEntry {
  readonly name: string;
  readonly data: Uint8Array;
  readonly executable: boolean;
}

export const EXECUTABLE_MODE = 0o755;
export const FILE_MODE = 0o644;

export function modeOf(entry: ArchiveEntry): number {
  return entry.executable ? EXECUTABLE_MODE : FILE_MODE;
}

/** Entries sorted by the bytes of their names, so no locale or file system decides the order. */
export function sortEntries(entries: readonly ArchiveEntry[]): ArchiveEntry[] {
  return [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}
