import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "./errors.js";
import { isErrnoCode } from "./log/files.js";

/**
 * Checked at every start, not only the first: a state directory another user can write into is one
 * where that user can replace api.json, tokens or the log. So the directory (and tokens/) must belong to
 * this user and be writable by no one else, and every token and key must be readable by no one else.
 */
const POSIX = process.platform !== "win32";

function invalid(path: string, found: string, fix: string): GatewayError {
  return new GatewayError("IC_STATE_INVALID", `expected ${path} ${found}; ${fix}`);
}

function owned(path: string, uid: number, what: string): void {
  const me = process.getuid?.();
  if (me !== undefined && uid !== me) {
    throw invalid(
      path,
      `to belong to this user (uid ${me}), found it owned by uid ${uid}`,
      `another user could have planted or read ${what}; check it, then run \`chown ${me} ${path}\``,
    );
  }
}

/** Refuses `path` when its mode has any of the `forbidden` bits, naming the mode found. */
function forbidMode(path: string, mode: number, forbidden: number, expected: string, hint: string): void {
  if ((mode & forbidden) === 0) return;
  throw invalid(path, `${expected}, found mode ${(mode & 0o7777).toString(8).padStart(4, "0")}`, hint);
}

export async function checkStateDirectory(dir: string): Promise<void> {
  if (!POSIX) return;
  const info = await stat(dir);
  if (!info.isDirectory()) throw invalid(dir, "to be a directory", "point --state at a directory");
  owned(dir, info.uid, "its files");
  forbidMode(
    dir,
    info.mode,
    0o022,
    "to be writable only by its owner",
    `another user could replace api.json, tokens or the log in it; check them, then run \`chmod 700 ${dir}\``,
  );
  const tokens = join(dir, "tokens");
  let tokenInfo: Awaited<ReturnType<typeof lstat>>;
  try {
    tokenInfo = await lstat(tokens);
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return;
    throw error;
  }
  if (!tokenInfo.isDirectory())
    throw invalid(tokens, "to be a directory (not a link)", "move it away and start again");
  owned(tokens, tokenInfo.uid, "tokens");
  forbidMode(
    tokens,
    tokenInfo.mode,
    0o077,
    "to be open to its owner only",
    `run \`chmod 700 ${tokens}\`, and replace the tokens if anyone else may have read them`,
  );
  for (const name of await readdir(tokens)) {
    const path = join(tokens, name);
    const file = await lstat(path);
    if (!file.isFile()) throw invalid(path, "to be a regular file (not a link)", "remove it");
    owned(path, file.uid, "a token");
    forbidMode(
      path,
      file.mode,
      0o077,
      "to be readable by its owner only",
      `run \`chmod 600 ${path}\`, and replace the token if anyone else may have read it`,
    );
  }
  for (const name of ["host-key.pem", "principals.json"]) {
    const path = join(dir, name);
    try {
      const file = await lstat(path);
      owned(path, file.uid, "a key");
    } catch (error) {
      if (!isErrnoCode(error, "ENOENT")) throw error;
    }
  }
}
