import { GatewayError } from "../errors.js";
import { ChainVerifier } from "./chain-verifier.js";
import { type Expectation, mismatch } from "./checkpoint-file.js";
import { scanLines } from "./line-scanner.js";
import { type LogRecord, ZERO_HASH } from "./record.js";

export interface ChainScan {
  readonly records: number;
  readonly head: { readonly seq: number; readonly hash: string };
  /** Bytes of verified, complete records. */
  readonly completeBytes: number;
  /** Bytes after the last LF (a torn write), when the scan reached the end. */
  readonly tailBytes: number;
  /** Checkpoints (stored or kept) found to agree with the log. */
  readonly checkpointsChecked: number;
  /** The failure with the lowest record number, if any; a failure not tied to a record counts as 0. */
  readonly failure?: GatewayError;
}

export interface ChainScanOptions {
  readonly expectations: readonly Expectation[];
  /** Failures found before the log is read (refused checkpoints). */
  readonly failures?: readonly GatewayError[];
  /** Each verified record, with the byte offset just past its LF; a GatewayError it throws is the failure. */
  readonly onRecord?: (record: LogRecord, end: number) => void;
}

/** Verifies the whole chain of `path` and every expectation against it, in one streaming pass. */
export async function scanChain(path: string, options: ChainScanOptions): Promise<ChainScan> {
  const byRecord = new Map<number, Expectation[]>();
  let checked = 0;
  let earliest = first(options.failures ?? []);
  for (const expectation of options.expectations) {
    if (expectation.seq === 0) {
      if (expectation.hash === ZERO_HASH) checked++;
      else earliest = first([mismatch(expectation, ZERO_HASH), earliest]);
      continue;
    }
    const list = byRecord.get(expectation.seq);
    if (list === undefined) byRecord.set(expectation.seq, [expectation]);
    else list.push(expectation);
  }
  // Records after an earlier failure's record need not be read: that failure is reported first.
  const stopAfter = earliest === undefined ? Number.POSITIVE_INFINITY : (earliest.record ?? 0);
  const verifier = new ChainVerifier();
  const { onRecord } = options;
  let chainFailure: GatewayError | undefined;
  const scan = await scanLines(path, (buffer, start, end, offset, utf8) => {
    if (verifier.records >= stopAfter) return false;
    try {
      verifier.check(buffer, start, end, utf8);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      chainFailure = error;
      return false;
    }
    const expected = byRecord.get(verifier.records);
    if (expected !== undefined) {
      for (const expectation of expected) {
        if (expectation.hash !== verifier.headHash) {
          chainFailure = mismatch(expectation, verifier.headHash);
          return false;
        }
        checked++;
      }
    }
    if (onRecord !== undefined) {
      try {
        onRecord(JSON.parse(buffer.toString("utf8", start, end)) as LogRecord, offset + (end - start) + 1);
      } catch (error) {
        // A record the reader refuses (the fold: a transition the gateway would not have made).
        if (!(error instanceof GatewayError)) throw error;
        chainFailure = error;
        return false;
      }
    }
    return true;
  });
  const records = verifier.records;
  // On a tie the chain's own failure is the more precise account.
  let failure = first([chainFailure, earliest]);
  if (failure === undefined) failure = beyondEnd(options.expectations, records);
  return {
    records,
    head: { seq: records, hash: verifier.headHash },
    completeBytes: scan.completeBytes,
    tailBytes: scan.tailBytes,
    checkpointsChecked: checked,
    ...(failure === undefined ? {} : { failure }),
  };
}

/** The failure with the lowest record number; the first listed wins a tie. */
function first(failures: readonly (GatewayError | undefined)[]): GatewayError | undefined {
  let earliest: GatewayError | undefined;
  for (const failure of failures) {
    if (failure !== undefined && (earliest === undefined || (failure.record ?? 0) < (earliest.record ?? 0))) {
      earliest = failure;
    }
  }
  return earliest;
}

/** A checkpoint of a record the log no longer has: records were cut off the end. */
function beyondEnd(expectations: readonly Expectation[], records: number): GatewayError | undefined {
  let last: Expectation | undefined;
  for (const expectation of expectations) {
    if (expectation.seq > records && (last === undefined || expectation.seq > last.seq)) last = expectation;
  }
  if (last === undefined) return undefined;
  return new GatewayError(
    "IC_AUDIT_TRUNCATED",
    `${last.source} covers record ${last.seq}, found only ${records} records: records ${records + 1} to ${last.seq} ` +
      "(at least) were cut off the end of events.jsonl; restore it from a backup",
    { record: records + 1 },
  );
}
