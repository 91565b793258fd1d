import { readFile } from "node:fs/promises";
import { GatewayError, type GatewayErrorCode } from "../errors.js";
import type { Checkpoint } from "./checkpoint.js";
import { checkCheckpoints } from "./checkpoint-file.js";
import { CHECKPOINTS_FILE, EVENTS_FILE, isErrnoCode, PUBLIC_KEY_FILE, statePath } from "./files.js";
import { readSeals, SEAL_FILE } from "./head-seal.js";
import { type PublicHostKey, publicKeyFromPem } from "./host-key.js";
import { type LogRecord, ZERO_HASH } from "./record.js";
import { scanChain, unsignedTail } from "./scan-chain.js";
import { readWitness } from "./witness.js";

const EMPTY_HEAD = { seq: 0, hash: ZERO_HASH };

export interface LogVerification {
  readonly ok: boolean;
  /** Records verified (all of them when ok). */
  readonly records: number;
  readonly head: { readonly seq: number; readonly hash: string };
  readonly checkpointsChecked: number;
  readonly failure?: {
    readonly code: GatewayErrorCode;
    /** The 1-based number of the first bad record; 0 when the failure is not tied to one (no log, no key). */
    readonly record: number;
    readonly message: string;
  };
}

export interface VerifyEventLogOptions {
  readonly dir: string;
  /** The host public key to trust; by default host-key.pub.pem from `dir` (which an intruder can replace). */
  readonly publicKeyPem?: string;
  /** Checkpoints kept from earlier (e.g. from GET /v1/audit/head): they expose a rewritten history. */
  readonly keptCheckpoints?: readonly Checkpoint[];
  /** A witness directory (`up --witness`): its checkpoints count as kept ones. */
  readonly witness?: string;
  /** Each verified record, in order; a GatewayError it throws fails the verification at that record. */
  readonly onRecord?: (record: LogRecord) => void;
  /** Which record types onRecord is given (default all). */
  readonly recordTypes?: (type: string) => boolean;
}

/**
 * Offline verification of a state directory's event log and checkpoints, streaming (flat memory).
 * Reads only; a torn last line is reported, not repaired.
 */
export async function verifyEventLog(options: VerifyEventLogOptions): Promise<LogVerification> {
  const key = await trustedKey(options);
  // A key the caller named must work even when there is nothing to check with it.
  if (key instanceof GatewayError && options.publicKeyPem !== undefined) return result(0, EMPTY_HEAD, 0, key);
  let witnessed: Checkpoint[] = [];
  if (options.witness !== undefined) {
    try {
      witnessed = await readWitness(options.witness);
    } catch (error) {
      if (error instanceof GatewayError) return result(0, EMPTY_HEAD, 0, error);
      throw error;
    }
  }
  const checked = await checkCheckpoints(statePath(options.dir, CHECKPOINTS_FILE), key, [
    ...(options.keptCheckpoints ?? []),
    ...witnessed,
  ]);
  const eventsPath = statePath(options.dir, EVENTS_FILE);
  let scan: Awaited<ReturnType<typeof scanChain>>;
  try {
    const onRecord = options.onRecord;
    scan = await scanChain(eventsPath, {
      expectations: checked.expectations,
      failures: checked.failures,
      seals: await readSeals(statePath(options.dir, SEAL_FILE), key),
      ...(options.recordTypes === undefined ? {} : { parse: options.recordTypes }),
      ...(onRecord === undefined
        ? {}
        : {
            onRecord: (record: LogRecord | undefined) => {
              if (record !== undefined) onRecord(record);
            },
          }),
    });
  } catch (error) {
    if (!isErrnoCode(error, "ENOENT")) throw error;
    const missing = new GatewayError(
      "IC_STATE_INVALID",
      `expected an event log at ${eventsPath}, found no such file: this is not a state directory \`ironclaw up\` has run in; pass --state with the one it used, or restore events.jsonl from a backup`,
    );
    return result(0, EMPTY_HEAD, 0, missing);
  }
  let failure = scan.failure ?? unsignedTail(scan, "Compare them with a copy of the log you trust.");
  if (failure === undefined && scan.tailBytes > 0) {
    failure = new GatewayError(
      "IC_AUDIT_TORN",
      `expected every line to end with LF, found ${scan.tailBytes} bytes of an unfinished line after record ${scan.records} ` +
        "(a write cut short by a crash); starting the gateway removes it",
      { record: scan.records + 1 },
    );
  }
  return result(scan.records, scan.head, scan.checkpointsChecked, failure);
}

async function trustedKey(options: VerifyEventLogOptions): Promise<PublicHostKey | GatewayError> {
  const path = statePath(options.dir, PUBLIC_KEY_FILE);
  try {
    if (options.publicKeyPem !== undefined)
      return publicKeyFromPem(options.publicKeyPem, "the given public key");
    return publicKeyFromPem(await readFile(path, "utf8"), path);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    if (!isErrnoCode(error, "ENOENT")) throw error;
    // Only an error if there is a checkpoint to check.
    return new GatewayError(
      "IC_AUDIT_KEY",
      `expected the host public key in ${path} to check checkpoints, found no such file; pass the public key explicitly`,
    );
  }
}

function result(
  records: number,
  head: { seq: number; hash: string },
  checkpointsChecked: number,
  failure: GatewayError | undefined,
): LogVerification {
  if (failure === undefined) return { ok: true, records, head, checkpointsChecked };
  return {
    ok: false,
    records,
    head,
    checkpointsChecked,
    failure: { code: failure.code, record: failure.record ?? 0, message: failure.message },
  };
}
