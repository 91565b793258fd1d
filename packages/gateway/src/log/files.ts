import { chmod, open, rename } from "node:fs/promises";
import { join } from "node:path";

/** The files of a state directory (DESIGN.md §5). */
export const EVENTS_FILE = "events.jsonl";
export const CHECKPOINTS_FILE = "checkpoints.jsonl";
export const LOCK_FILE = "gateway.lock";
export const PRIVATE_KEY_FILE = "host-key.pem";
export const PUBLIC_KEY_FILE = "host-key.pub.pem";

export function statePath(dir: string, file: string): string {
  return join(dir, file);
}

/** Makes a directory entry (a created or renamed file) durable; Windows cannot open directories. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes via a temporary file and rename, so a crash leaves the old file or the whole new one. */
export async function writeFileDurably(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, "w", mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // open's mode is filtered by the umask; set it exactly.
  await chmod(temporary, mode);
  await rename(temporary, path);
  await syncDir(join(path, ".."));
}

export function isErrnoCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
