import { constants } from "node:fs";
import { type FileHandle, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "../errors.js";
import { type Checkpoint, parseCheckpointLine } from "./checkpoint.js";
import { isErrnoCode } from "./files.js";

/**
 * `--witness DIR`: every checkpoint the log stores is also appended to DIR/checkpoints.jsonl, a file the
 * gateway's user can append to but not rewrite. That is checked, not assumed: the file must belong to
 * another user, and opening it for writing anywhere but its end must fail (an append-only file, e.g.
 * `chattr +a`, or a file system that only appends). A host-key holder who rewrites the state directory
 * then still cannot rewrite what the witness holds; `audit verify --witness DIR` compares the two.
 */
export const WITNESS_FILE = "checkpoints.jsonl";
/** The most a witness file is read (about 1.6 million checkpoints): reading is bounded. */
const MAX_WITNESS_BYTES = 256 * 1024 * 1024;

const SETUP =
  "as root: touch DIR/checkpoints.jsonl; chown root DIR/checkpoints.jsonl; chmod 622 DIR/checkpoints.jsonl; chattr +a DIR/checkpoints.jsonl";

function refused(path: string, found: string): GatewayError {
  return new GatewayError(
    "IC_STATE_INVALID",
    `expected the witness ${path} to be a file another user owns that the gateway can only append to, found ${found}; set it up ${SETUP.replaceAll("DIR/", `${path.slice(0, -WITNESS_FILE.length)}`)}`,
  );
}

/** Opens the witness for appending, after checking the gateway cannot rewrite it. */
export async function openWitness(dir: string): Promise<FileHandle> {
  const path = join(dir, WITNESS_FILE);
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a symbolic link could point the appends anywhere.
    handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) throw refused(path, "no such file");
    if (isErrnoCode(error, "ELOOP")) throw refused(path, "a symbolic link");
    throw refused(path, `a file it cannot append to (${(error as Error).message})`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refused(path, "something that is not a regular file");
    if (typeof process.getuid === "function" && stats.uid === process.getuid()) {
      throw refused(path, "a file the gateway's own user owns (and so can rewrite)");
    }
    // The probe: a write that is not an append must be impossible. Nothing is written either way.
    let rewritable = true;
    try {
      await (await open(path, constants.O_WRONLY | constants.O_NOFOLLOW)).close();
    } catch {
      rewritable = false;
    }
    if (rewritable) throw refused(path, "a file the gateway could open to rewrite (it is not append-only)");
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The checkpoints a witness holds, unverified (verification checks their signatures). */
export async function readWitness(dir: string): Promise<Checkpoint[]> {
  const path = join(dir, WITNESS_FILE);
  let text: string;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      if (size > MAX_WITNESS_BYTES) throw refused(path, `a file of ${size} bytes, more than is read`);
      text = await readFile(handle, "utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw new GatewayError(
      "IC_STATE_INVALID",
      `cannot read the witness ${path}: ${(error as Error).message}`,
    );
  }
  // A torn last line is an unfinished append: it claims nothing.
  const lines = text.split("\n").slice(0, -1);
  return lines.map((line, index) => parseCheckpointLine(line, `${path} line ${index + 1}`));
}
