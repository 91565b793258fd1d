import { constants, type Stats } from "node:fs";
import { lstat, open } from "node:fs/promises";
import { ModelError, type ModelErrorCode } from "./errors.js";

export interface BoundedReadOptions {
  readonly maxBytes: number;
  /** The code for a file that is not what is expected. */
  readonly code: ModelErrorCode;
  /** Refuse a symbolic link outright instead of following it. */
  readonly noSymlink: boolean;
  /** Owned by this process's user, no access for group or others (mode 0600 or stricter). */
  readonly private: boolean;
  readonly what: string;
}

/**
 * Reads a small regular file without trusting it: never blocks on a FIFO (O_NONBLOCK, and only a
 * regular file is read), never reads past the cap (a symlink to /dev/zero is not a regular file), and
 * checks that the file opened is the one inspected.
 */
export async function readBoundedFile(path: string, options: BoundedReadOptions): Promise<Buffer> {
  const refuse = (found: string, todo: string): never => {
    throw new ModelError(options.code, `${options.what} ${path}: ${found}; ${todo}`);
  };
  const linkStat = await lstat(path).catch((cause: NodeJS.ErrnoException) =>
    refuse(`cannot be read (${cause.code ?? cause.message})`, "check the path"),
  );
  if (options.noSymlink && linkStat.isSymbolicLink())
    refuse("is a symbolic link", "point at the file itself");
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.noSymlink ? constants.O_NOFOLLOW : 0);
  const handle = await open(path, flags).catch((cause: NodeJS.ErrnoException) =>
    refuse(`cannot be opened (${cause.code ?? cause.message})`, "check the path and its permissions"),
  );
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) refuse(`is not a regular file (${kind(stat)})`, "use a regular file");
    if (options.noSymlink && (stat.dev !== linkStat.dev || stat.ino !== linkStat.ino))
      refuse("changed while it was opened", "try again");
    if (options.private) {
      const uid = process.getuid?.();
      if (uid !== undefined && stat.uid !== uid)
        refuse(`is owned by uid ${stat.uid}, not ${uid}`, "chown it to the user running ironclaw");
      if ((stat.mode & 0o077) !== 0)
        refuse(`has mode ${(stat.mode & 0o777).toString(8)}`, "chmod 600 it: no access for group or others");
    }
    if (stat.size > options.maxBytes)
      refuse(`is ${stat.size} bytes`, `keep it under ${options.maxBytes} bytes`);
    const buffer = Buffer.alloc(options.maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > options.maxBytes) refuse(`grew past ${options.maxBytes} bytes`, "keep it small");
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

function kind(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isDirectory()) return "a directory";
  if (stat.isSocket()) return "a socket";
  return "not a file";
}
