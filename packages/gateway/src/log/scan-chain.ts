import { GatewayError } from "../errors.js";
import { ChainVerifier } from "./chain-verifier.js";
import type { Checkpoint } from "./checkpoint.js";
import { type Expectation, mismatch } from "./checkpoint-file.js";
import { SEAL_FILE } from "./head-seal.js";
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
  /** The last record covered by a host signature: a verified seal or checkpoint (0: none). */
  readonly signedThrough: number;
  /** Its hash, and the byte offset just past its LF. */
  readonly signedHash: string;
  readonly signedBytes: number;
  /** The failure with the lowest record number, if any; a failure not tied to a record counts as 0. */
  readonly failure?: GatewayError;
}

export interface ChainScanOptions {
  readonly expectations: readonly Expectation[];
  /** Failures found before the log is read (refused checkpoints). */
  readonly failures?: readonly GatewayError[];
  /**
   * Each verified record, with the byte offset just past its LF, once a host signature covers it: the
   * records of an unsigned tail are never handed out. A GatewayError it throws is the failure.
   */
  readonly onRecord?: (record: LogRecord | undefined, end: number) => void;
  /** Which record types onRecord needs parsed (default all); the others come as undefined, unparsed. */
  readonly parse?: (type: string) => boolean;
  /** Verified seals (head.sig): a seal beyond the end is a commit that never finished, and vouches for nothing. */
  readonly seals?: readonly Checkpoint[];
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
  const seals = new Map<number, Checkpoint>();
  for (const seal of options.seals ?? []) seals.set(seal.seq, seal);
  let chainFailure: GatewayError | undefined;
  let signedThrough = 0;
  let signedHash = ZERO_HASH;
  let signedBytes = 0;
  /** Records since the last signature, held back until one covers them. */
  let unsigned: { record: LogRecord | undefined; end: number }[] = [];
  const parse = options.parse;
  const signed = (bytes: number): GatewayError | undefined => {
    signedThrough = verifier.records;
    signedHash = verifier.headHash;
    signedBytes = bytes;
    const held = unsigned;
    unsigned = [];
    if (onRecord === undefined) return undefined;
    for (const { record, end } of held) {
      try {
        onRecord(record, end);
      } catch (error) {
        // A record the reader refuses (the fold: a transition the gateway would not have made).
        if (!(error instanceof GatewayError)) throw error;
        return error;
      }
    }
    return undefined;
  };
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
    const lineEnd = offset + (end - start) + 1;
    if (onRecord !== undefined) {
      const wanted = parse === undefined || parse(verifier.typeOf(buffer));
      const record = wanted ? (JSON.parse(buffer.toString("utf8", start, end)) as LogRecord) : undefined;
      unsigned.push({ record, end: lineEnd });
    }
    let covered = expected !== undefined;
    const seal = seals.get(verifier.records);
    if (seal !== undefined) {
      if (seal.hash !== verifier.headHash) {
        chainFailure = mismatch({ ...seal, source: SEAL_FILE }, verifier.headHash);
        return false;
      }
      covered = true;
    }
    if (covered) {
      const refused = signed(lineEnd);
      if (refused !== undefined) {
        chainFailure = refused;
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
    signedThrough,
    signedHash,
    signedBytes,
    ...(failure === undefined ? {} : { failure }),
  };
}

/** Where a log stops being signed: every record after `signedThrough` was written without the host key. */
export function unsignedTail(scan: ChainScan, what: string): GatewayError | undefined {
  if (scan.signedThrough >= scan.records) return undefined;
  const first = scan.signedThrough + 1;
  return new GatewayError(
    "IC_AUDIT_UNSIGNED",
    `expected every record to be covered by the host key's signature, found records ${first} to ${scan.records} unsigned ` +
      `(after the last seal or checkpoint, at record ${scan.signedThrough}): they were appended by something other than ` +
      `the gateway, or a crash cut the write of their group commit, so they were never acknowledged. ${what}`,
    { record: first },
  );
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
