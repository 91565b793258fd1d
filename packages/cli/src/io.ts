import { fstatSync, writeSync } from "node:fs";

/** What a command may touch of its process: injected so commands run in tests without spawning. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CommandIo {
  readonly stdin: AsyncIterable<Uint8Array>;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIo(): CommandIo {
  return {
    // Node builds process.stdin on first use (a socket for a pipe, with net and streams): only commands that read it pay.
    get stdin() {
      return process.stdin;
    },
    stdout: descriptorOutput(1, () => process.stdout),
    stderr: descriptorOutput(2, () => process.stderr),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * Writes straight to descriptor 1 or 2. Node builds process.stdout and process.stderr on first use
 * (streams, and net for a pipe): a short command spent more on that than on its own output. Only a
 * character device can be a terminal, so the stream is asked about isTTY only then. A
 * descriptor that refuses a write (a full non-blocking pipe, a closed one) hands the rest, and every
 * later write, to the stream, which handles those as it always has; the order of the text is kept.
 */
export function descriptorOutput(fd: number, stream: () => NodeJS.WriteStream): OutputStream {
  let fallback: NodeJS.WriteStream | undefined;
  let terminal: boolean | undefined;
  const tty = () => {
    if (terminal === undefined) {
      try {
        terminal = fstatSync(fd).isCharacterDevice() && stream().isTTY === true;
      } catch {
        terminal = false;
      }
    }
    return terminal;
  };
  return {
    write(text: string): boolean {
      if (fallback !== undefined) return fallback.write(text);
      const bytes = Buffer.from(text);
      let written = 0;
      try {
        while (written < bytes.length) written += writeSync(fd, bytes, written);
        return true;
      } catch {
        fallback = stream();
        return fallback.write(bytes.subarray(written));
      }
    },
    get isTTY() {
      return tty();
    },
  };
}
