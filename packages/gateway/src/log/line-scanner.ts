import { isUtf8 } from "node:buffer";
import { open } from "node:fs/promises";
import { GatewayError } from "../errors.js";
import { MAX_LINE_BYTES } from "./record.js";

const CHUNK_BYTES = 1024 * 1024;
const LF = 0x0a;

/**
 * Called with bytes [start, end) of `buffer` (LF excluded) and the line's byte offset in the file; false
 * stops. `utf8` is true when the line is known to be valid UTF-8 (checked a chunk at a time).
 */
export type LineVisitor = (
  buffer: Buffer,
  start: number,
  end: number,
  offset: number,
  utf8: boolean,
) => boolean | undefined;

export interface LineScan {
  /** Bytes of complete (LF-terminated) lines visited. */
  readonly completeBytes: number;
  /** Bytes after the last LF: a torn write when > 0. */
  readonly tailBytes: number;
  /** True when the visitor stopped early; the byte counts then cover only what was visited. */
  readonly stopped: boolean;
}

/**
 * Streams a file line by line through one reused buffer, so memory stays flat however long the file.
 * Throws ENOENT like fs does when the file is missing.
 */
export async function scanLines(path: string, visit: LineVisitor): Promise<LineScan> {
  const handle = await open(path, "r");
  try {
    let buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let filled = 0; // bytes in buffer; [0, filled) start at file offset `base`
    let base = 0;
    let lines = 0;
    for (;;) {
      if (filled === buffer.length) buffer = grow(path, buffer, lines);
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) return { completeBytes: base, tailBytes: filled, stopped: false };
      const end = filled + bytesRead;
      const view = buffer.subarray(0, end);
      // LF never occurs inside a UTF-8 sequence, so complete lines can be validated together.
      const lastLf = view.lastIndexOf(LF);
      const utf8 = lastLf >= 0 && isUtf8(view.subarray(0, lastLf));
      let start = 0;
      let lf = view.indexOf(LF, filled);
      while (lf !== -1) {
        lines++;
        if (visit(buffer, start, lf, base + start, utf8) === false) {
          return { completeBytes: base + lf + 1, tailBytes: 0, stopped: true };
        }
        start = lf + 1;
        lf = view.indexOf(LF, start);
      }
      // Keep the unfinished line at the front of the buffer for the next read.
      buffer.copy(buffer, 0, start, end);
      base += start;
      filled = end - start;
    }
  } finally {
    await handle.close();
  }
}

function grow(path: string, buffer: Buffer, lines: number): Buffer {
  // A full buffer with no LF holds a line longer than any the log writes.
  if (buffer.length >= MAX_LINE_BYTES) {
    throw new GatewayError(
      "IC_AUDIT_CORRUPT",
      `line ${lines + 1} of ${path}: expected at most ${MAX_LINE_BYTES} bytes per line, found more; restore the file from a backup`,
      { record: lines + 1 },
    );
  }
  const bigger = Buffer.allocUnsafe(buffer.length * 2);
  buffer.copy(bigger);
  return bigger;
}
