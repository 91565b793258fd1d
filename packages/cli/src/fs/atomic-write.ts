import { replaceFileDurably } from "@ironclaw/gateway/durable-file";
import { CliError } from "../errors.js";

/**
 * Writes a file so that readers see the old content or the new, never a part (the gateway's
 * durable replace: temporary file, fsync, rename, directory fsync).
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  try {
    await replaceFileDurably(path, content, { mode: 0o644 });
  } catch (cause) {
    throw new CliError("IC_OUTPUT_WRITE", `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
