import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats, statSync } from "node:fs";
import { VerifyError, type VerifyErrorCode } from "../errors.js";
import { describeType } from "../hashing/sha256-file.js";

/** The most any whole-file read takes unless told otherwise: far above any bundle, key or root. */
export const DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024;

export interface ReadBoundedOptions {
  /** Advice appended to a "missing" message. */
  readonly hint?: string;
  readonly maxBytes?: number;
  /** The code for a file over the cap (the format's own TOO_LARGE code where it has one). */
  readonly tooLargeCode?: VerifyErrorCode;
}

/** Up to this size a file is read on this thread: a trip through libuv's pool costs more than the read. */
export const SYNC_READ_BYTES = 8 * 1024 * 1024;

/**
 * Reads a whole regular file, as the hashing does: opened with O_NONBLOCK so a FIFO cannot hang the
 * open, refused unless fstat says it is a regular file (a symlink to /dev/zero is a character device),
 * and counted while reading so a file that grows past the cap is refused rather than swallowed.
 * Files up to SYNC_READ_BYTES are read synchronously, larger ones on libuv's pool.
 */
export async function readBounded(
  path: string,
  what: string,
  options: ReadBoundedOptions = {},
): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_READ_BYTES;
  const advice = options.hint === undefined ? "" : `; ${options.hint}`;
  // Only a regular file is opened (opening a device acts); fstat below checks what was opened.
  let found: Stats | undefined;
  try {
    found = statSync(path, { throwIfNoEntry: false });
  } catch {
    // A loop of links or a denied search: the open below meets it and says so.
  }
  if (found !== undefined && !found.isFile()) notRegular(found, path, what, advice);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new VerifyError("IC_FILE_MISSING", `${what} ${path} does not exist${advice}`, { cause });
    if (code === "EISDIR")
      throw new VerifyError("IC_FILE_NOT_REGULAR", `${what} ${path} is a directory${advice}`, { cause });
    throw new VerifyError("IC_FILE_READ", `cannot open ${what} ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) notRegular(stats, path, what, advice);
    const tooLarge = () =>
      new VerifyError(
        options.tooLargeCode ?? "IC_FILE_TOO_LARGE",
        `${what} ${path} is larger than ${maxBytes} bytes, more than any genuine one; refusing to read it`,
      );
    if (stats.size > maxBytes) throw tooLarge();
    const synchronous = stats.size <= SYNC_READ_BYTES;
    const chunks: Buffer[] = [];
    let total = 0;
    // One byte past the cap tells a file that grew while read from one that is exactly the cap.
    const buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(stats.size + 1, 64 * 1024)));
    for (;;) {
      const bytesRead = synchronous
        ? readSync(fd, buffer, 0, buffer.length, total)
        : await readAsync(fd, buffer, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge();
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } catch (cause) {
    if (cause instanceof VerifyError) throw cause;
    throw new VerifyError("IC_FILE_READ", `cannot read ${what} ${path}: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    closeSync(fd);
  }
}

function readAsync(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (error, bytesRead) =>
      error === null ? resolve(bytesRead) : reject(error),
    );
  });
}

function notRegular(stats: Stats, path: string, what: string, advice: string): never {
  if (stats.isDirectory())
    throw new VerifyError("IC_FILE_NOT_REGULAR", `${what} ${path} is a directory${advice}`);
  throw new VerifyError(
    "IC_FILE_NOT_REGULAR",
    `${what} ${path} is not a regular file (${describeType(stats)}); give the file itself`,
  );
}
