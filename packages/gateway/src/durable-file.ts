import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { GatewayError } from "./errors.js";

/**
 * Replaces a file so that readers see the old content or the new, never a part: a temporary file
 * beside the target, fsynced, renamed over it, and the directory fsynced so the rename survives a
 * crash. `exactMode` also sets the mode with chmod, so that the umask cannot change it. Errors are the
 * file system's own; the temporary file is removed.
 */
export async function replaceFileDurably(
  path: string,
  content: string | Uint8Array,
  options: { readonly mode: number; readonly exactMode?: boolean },
): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temporary, "wx", options.mode);
    try {
      if (options.exactMode === true) await handle.chmod(options.mode);
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncDirectory(directory);
  } catch (cause) {
    await rm(temporary, { force: true });
    throw cause;
  }
}

/** The state directory's one way to replace a file (tokens, principals, the host key, api.json), at exactly `mode`. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  try {
    await replaceFileDurably(path, content, { mode, exactMode: true });
  } catch (cause) {
    throw new GatewayError(
      "IC_STATE_INVALID",
      `cannot write ${path}: ${(cause as Error).message}; check that the state directory is writable by this user and the disk is not full`,
      { cause },
    );
  }
}

/** Makes a directory entry (a created or renamed file) durable; Windows cannot open directories. */
export async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === "win32") return;
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
