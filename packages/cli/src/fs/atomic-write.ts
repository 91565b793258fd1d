import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CliError } from "../errors.js";

/**
 * Writes a file so that readers see the old content or the new, never a part: a temporary file
 * beside the target, fsynced, renamed over it, and the directory fsynced so the rename survives.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncDirectory(directory);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw new CliError("IC_OUTPUT_WRITE", `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === "win32") return; // Directories cannot be opened for fsync there.
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
