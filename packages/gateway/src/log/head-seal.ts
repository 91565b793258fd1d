import { type FileHandle, open } from "node:fs/promises";
import { type Checkpoint, checkpointLine, parseCheckpointLine, verifyCheckpoint } from "./checkpoint.js";
import { isErrnoCode } from "./files.js";
import type { PublicHostKey } from "./host-key.js";

/**
 * The seal: after every group commit the host key signs the new durable head, written to one of two
 * fixed slots of `head.sig` in turn, and synced alongside events.jsonl before the commit is
 * acknowledged. Only the newest seal matters (the chain links everything before it), so the file never
 * grows; two slots, so a write torn by a crash can spoil only the seal of a commit nobody heard about.
 * Records after the newest seal and the newest checkpoint were written without the key.
 */
export const SEAL_FILE = "head.sig";
const SLOT_BYTES = 512;

export interface Seal extends Checkpoint {
  readonly slot: number;
}

/** The slot the next seal goes to: never the one holding the newest seal. */
export function nextSlot(seals: readonly Seal[]): number {
  return seals[0] === undefined ? 0 : 1 - seals[0].slot;
}

/** Writes `checkpoint` into slot `slot` (0 or 1) and syncs it. */
export async function writeSeal(handle: FileHandle, slot: number, checkpoint: Checkpoint): Promise<void> {
  const line = checkpointLine(checkpoint);
  const bytes = Buffer.alloc(SLOT_BYTES, 0x20);
  bytes.write(line.slice(0, -1), 0, "utf8");
  bytes[SLOT_BYTES - 1] = 0x0a;
  const { bytesWritten } = await handle.write(bytes, 0, SLOT_BYTES, slot * SLOT_BYTES);
  if (bytesWritten !== SLOT_BYTES)
    throw new Error(`wrote ${bytesWritten} of ${SLOT_BYTES} bytes of ${SEAL_FILE}`);
  await handle.datasync();
}

/** Opens head.sig for writing in place, creating it (mode 0600) if missing. */
export async function openSealFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r+");
  } catch (error) {
    if (!isErrnoCode(error, "ENOENT")) throw error;
    return open(path, "w+", 0o600);
  }
}

/**
 * The seals in head.sig whose signature by `key` holds, newest first. A slot that does not parse or
 * verify is ignored: it is a torn write, or a forgery, and either way it vouches for nothing.
 */
export async function readSeals(path: string, key: PublicHostKey | Error): Promise<Seal[]> {
  if (key instanceof Error) return [];
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return [];
    throw error;
  }
  const bytes = Buffer.alloc(2 * SLOT_BYTES);
  let length = 0;
  try {
    // Bounded: two slots, whatever the file's size.
    for (;;) {
      const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length);
      if (bytesRead === 0 || length + bytesRead === bytes.length) {
        length += bytesRead;
        break;
      }
      length += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const seals: Seal[] = [];
  for (let slot = 0; slot * SLOT_BYTES < length; slot++) {
    const text = bytes
      .toString("utf8", slot * SLOT_BYTES, Math.min(length, (slot + 1) * SLOT_BYTES))
      .trimEnd();
    try {
      seals.push({ ...verifyCheckpoint(parseCheckpointLine(text, `${SEAL_FILE} slot ${slot}`), key), slot });
    } catch {
      // Ignored, as said above.
    }
  }
  return seals.sort((a, b) => b.seq - a.seq);
}
