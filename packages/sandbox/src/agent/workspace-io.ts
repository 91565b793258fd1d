import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** The most of one workspace file the agent reads: past it the file is refused, not read whole. */
export const READ_LIMIT = 4 * 1024 * 1024;

/**
 * Reads a workspace file as text, bounded: a regular file of at most READ_LIMIT bytes. A FIFO (which
 * would block the task forever), a device such as /dev/zero (endless) or a huge file is refused with
 * what was found. Opened non-blocking so a FIFO without a writer cannot hang the open itself.
 */
export async function readWorkspaceText(path: string, shown: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new Error(`${shown} is not a regular file; only regular files are read`);
    if (info.size > READ_LIMIT)
      throw new Error(`${shown} has ${info.size} bytes; at most ${READ_LIMIT} are read`);
    // The size may grow while it is read: read one byte past the limit to notice.
    const buffer = Buffer.allocUnsafe(READ_LIMIT + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > READ_LIMIT) throw new Error(`${shown} grew past ${READ_LIMIT} bytes while it was read`);
    }
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Writes a workspace file, replacing its content. Non-blocking, so a FIFO with no reader fails at once
 * (ENXIO) instead of hanging the task; anything that is not a regular file once opened is refused.
 */
export async function writeWorkspaceText(path: string, shown: string, content: string): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NONBLOCK;
  const handle = await open(path, flags, 0o644).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENXIO") throw new Error(`${shown} is a FIFO; only regular files are written`);
    throw error;
  });
  try {
    if (!(await handle.stat()).isFile())
      throw new Error(`${shown} is not a regular file; only regular files are written`);
    await handle.truncate(0);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}
