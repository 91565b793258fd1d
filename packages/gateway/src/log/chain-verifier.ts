import { isUtf8 } from "node:buffer";
import { hash as digest } from "node:crypto";
import { GatewayError } from "../errors.js";
import { isHex64, isIsoTime, LineError, RecordScanner } from "./canonical-line.js";
import { type LogRecord, ZERO_HASH } from "./record.js";

/**
 * Checks log lines one at a time, in order: each must be the canonical JSON of a well-formed record whose
 * seq follows, whose prev is the previous hash, and whose hash is right. Throws IC_AUDIT_CORRUPT naming
 * the record number the line should have had. Allocates little per line: it runs a million times.
 */
export class ChainVerifier {
  private nextSeq: number;
  private prev: string | null;
  private readonly scanner = new RecordScanner();
  private scratch = Buffer.allocUnsafe(4096);

  /** `prev` null skips the link check of the first line (reading a slice of the log). */
  constructor(after = 0, prev: string | null = ZERO_HASH) {
    this.nextSeq = after + 1;
    this.prev = prev;
  }

  /** Records verified so far (the seq of the last one). */
  get records(): number {
    return this.nextSeq - 1;
  }

  /** The hash of the last verified record. */
  get headHash(): string {
    return this.prev ?? ZERO_HASH;
  }

  /** The `type` of the last line checked (in `buffer`), as its raw bytes: canonical JSON escapes nothing a type needs. */
  typeOf(buffer: Buffer): string {
    return buffer.toString("utf8", this.scanner.typeFrom, this.scanner.typeTo);
  }

  /** Verifies the line in bytes [start, end) of `buffer` (without its LF) and parses it. */
  accept(buffer: Buffer, start: number, end: number): LogRecord {
    this.check(buffer, start, end);
    return JSON.parse(buffer.toString("utf8", start, end)) as LogRecord;
  }

  /**
   * Verifies the line without building the record (offline verification); then see records/headHash.
   * `utf8Checked` says the caller already validated these bytes as UTF-8 (a whole chunk at once).
   */
  check(buffer: Buffer, start: number, end: number, utf8Checked = false): void {
    const seq = this.nextSeq;
    if (!utf8Checked && !isUtf8(buffer.subarray(start, end))) {
      throw corrupt(seq, "expected a UTF-8 line, found invalid UTF-8 bytes");
    }
    const s = this.scanner;
    try {
      s.scan(buffer, start, end);
    } catch (error) {
      if (!(error instanceof LineError)) throw error;
      throw corrupt(seq, `expected the canonical JSON of a record, found otherwise: ${error.message}`);
    }
    if (!isIsoTime(buffer, s.timeFrom, s.timeTo))
      throw corrupt(seq, "expected `time` as YYYY-MM-DDTHH:mm:ss.sssZ");
    if (s.typeTo === s.typeFrom) throw corrupt(seq, "expected a non-empty `type`");
    if (s.seq !== seq) {
      throw corrupt(seq, `expected seq ${seq}, found seq ${s.seq}: a record was removed, inserted or moved`);
    }
    // Hashes we computed are hex, so matching one proves the format too; check it apart only on a mismatch.
    const prev = buffer.toString("latin1", s.prevFrom, s.prevTo);
    if (this.prev === null ? !isHex64(buffer, s.prevFrom, s.prevTo) : prev !== this.prev) {
      if (!isHex64(buffer, s.prevFrom, s.prevTo))
        throw corrupt(seq, "expected `prev` as 64 lowercase hex digits");
      throw corrupt(
        seq,
        `expected prev ${this.prev} (the hash of record ${seq - 1}), found ${prev}: the chain is broken here`,
      );
    }
    const actual = this.hashWithoutHashMember(buffer, start, end);
    const claimed = buffer.toString("latin1", s.hashFrom, s.hashTo);
    if (claimed !== actual) {
      if (!isHex64(buffer, s.hashFrom, s.hashTo))
        throw corrupt(seq, "expected `hash` as 64 lowercase hex digits");
      throw corrupt(
        seq,
        `expected hash ${actual} over the record's content, found ${claimed}: the record was edited`,
      );
    }
    this.nextSeq = seq + 1;
    this.prev = actual;
  }

  /** SHA-256 of the line without its hash member (what the writer hashed), via a reused buffer. */
  private hashWithoutHashMember(buffer: Buffer, start: number, end: number): string {
    const { cutStart, cutEnd } = this.scanner;
    const length = end - start - (cutEnd - cutStart);
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(length * 2);
    const head = buffer.copy(this.scratch, 0, start, cutStart);
    buffer.copy(this.scratch, head, cutEnd, end);
    return digest("sha256", this.scratch.subarray(0, length), "hex");
  }
}

function corrupt(seq: number, message: string): GatewayError {
  return new GatewayError(
    "IC_AUDIT_CORRUPT",
    `${message}. The event log was altered or damaged; restore events.jsonl from a backup`,
    { record: seq },
  );
}
