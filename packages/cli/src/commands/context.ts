import type { ExitCode } from "../exit-codes.js";
import type { HashingPrefetch } from "../hashing-prefetch.js";
import type { CommandIo } from "../io.js";

/** What every command action receives: the process edges, and where to put its exit code. */
export interface CommandContext {
  readonly io: CommandIo;
  setExitCode(code: ExitCode): void;
  /** Hashing `ironclaw verify` started from the raw command line, before the CLI was loaded. */
  readonly prefetch?: HashingPrefetch;
}

export interface JsonOption {
  readonly json?: boolean;
}

export function writeJson(io: CommandIo, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}
