import { type ReadBoundedOptions, readBounded } from "./read-bounded.js";

/**
 * Reads a whole regular file, bounded (see readBounded); a missing or unreadable one is a coded
 * error naming what it was for.
 */
export function readNamed(
  path: string,
  what: string,
  hint?: string,
  options: Omit<ReadBoundedOptions, "hint"> = {},
): Promise<Buffer> {
  return readBounded(path, what, { ...options, ...(hint === undefined ? {} : { hint }) });
}
