import type { Stats } from "node:fs";

// The words of a hashing failure, shared by sha256File and the hashing workers, which run these
// functions' source (see workers.ts): each is self-contained, using nothing but its arguments. A
// module of their own, with no imports, so the workers can be started before node:crypto is loaded.

export function changedWhileHashingMessage(path: string, expectedSize: number, how: string): string {
  return `${path} ${how} while it was being hashed (it had ${expectedSize} bytes when opened); its checksum cannot be trusted, so wait until nothing writes to it and verify again`;
}

export function describeType(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a file";
}
