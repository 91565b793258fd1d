import type { GatewayError } from "../errors.js";
import { type Checkpoint, checkpointError, parseCheckpointLine, verifyCheckpoint } from "./checkpoint.js";
import { isErrnoCode } from "./files.js";
import type { PublicHostKey } from "./host-key.js";
import { scanLines } from "./line-scanner.js";

/** A hash the log must have at `seq`, and where that claim came from (for messages). */
export interface Expectation {
  readonly seq: number;
  readonly hash: string;
  readonly source: string;
}

export interface CheckedCheckpoints {
  /** Checkpoints that parsed and whose signature holds; each must agree with the log. */
  readonly expectations: Expectation[];
  /** Checkpoints refused before the log is read (bad line, bad signature, other key). */
  readonly failures: GatewayError[];
  /** The stored checkpoints that parsed, signature unchecked, in file order. */
  readonly stored: Checkpoint[];
  /** Bytes of complete lines in checkpoints.jsonl; a torn last line (crash mid-write) lies beyond. */
  readonly completeBytes: number;
  readonly tailBytes: number;
}

/**
 * Reads checkpoints.jsonl strictly (a missing file holds none) and checks each stored and kept checkpoint
 * against `key`. With no key, any checkpoint to check is a failure: it cannot be trusted unverified.
 */
export async function checkCheckpoints(
  path: string,
  key: PublicHostKey | GatewayError,
  kept: readonly unknown[] = [],
): Promise<CheckedCheckpoints> {
  const expectations: Expectation[] = [];
  const failures: GatewayError[] = [];
  const stored: Checkpoint[] = [];
  const check = (value: unknown, where: string): void => {
    try {
      if (!(key instanceof Error)) {
        expectations.push({ ...pick(verifyCheckpoint(value, key, where)), source: where });
      } else {
        failures.push(key);
      }
    } catch (error) {
      failures.push(error as GatewayError);
    }
  };
  let line = 0;
  let scan = { completeBytes: 0, tailBytes: 0 };
  try {
    scan = await scanLines(path, (buffer, start, end) => {
      line++;
      const where = `checkpoints.jsonl line ${line}`;
      let checkpoint: Checkpoint;
      try {
        checkpoint = parseCheckpointLine(buffer.toString("utf8", start, end), where);
      } catch (error) {
        failures.push(error as GatewayError);
        return true;
      }
      stored.push(checkpoint);
      check(checkpoint, where);
      return true;
    });
  } catch (error) {
    if (!isErrnoCode(error, "ENOENT")) throw error;
  }
  kept.forEach((value, index) => {
    check(value, `kept checkpoint #${index + 1}`);
  });
  return { expectations, failures, stored, ...scan };
}

function pick(checkpoint: Checkpoint): { seq: number; hash: string } {
  return { seq: checkpoint.seq, hash: checkpoint.hash };
}

export function mismatch(expectation: Expectation, actual: string): GatewayError {
  return checkpointError(
    expectation.seq,
    `${expectation.source} says record ${expectation.seq} has hash ${expectation.hash}, found ${actual}: ` +
      `the history up to record ${expectation.seq} was rewritten; restore events.jsonl from a backup`,
  );
}
