import {
  CanonicalJsonScanner,
  CLOSE_BRACE,
  COLON,
  COMMA,
  MINUS,
  NINE,
  OPEN_BRACE,
  QUOTE,
  ZERO,
} from "./json-scanner.js";

export { LineError, MAX_DEPTH } from "./json-scanner.js";

const NONE = 0;
const SEQ = 1;
const PREV = 2;
const HASH = 3;
const TIME = 4;
const TYPE = 5;
const FIELD_NAMES = ["", "seq", "prev", "hash", "time", "type"];
const ALL_FIELDS = (1 << SEQ) | (1 << PREV) | (1 << HASH) | (1 << TIME) | (1 << TYPE);

/**
 * Checks one log line at a time is the canonical JSON of an object with the chain fields, and locates
 * them: after scan() the fields below describe the line. String spans exclude the quotes and are raw
 * bytes (escapes not decoded).
 */
export class RecordScanner extends CanonicalJsonScanner {
  seq = 0;
  prevFrom = -1;
  prevTo = -1;
  hashFrom = -1;
  hashTo = -1;
  timeFrom = -1;
  timeTo = -1;
  typeFrom = -1;
  typeTo = -1;
  /** The hashed bytes are [start, cutStart) + [cutEnd, end): the line without `"hash":"…"` and one comma. */
  cutStart = -1;
  cutEnd = -1;

  /** Throws LineError unless bytes [start, end) of `b` are the canonical JSON of an object with the chain fields. */
  scan(b: Buffer, start: number, end: number): void {
    this.reset(b, start, end);
    let seen = 0;
    this.expect(OPEN_BRACE);
    let prevKey = -1;
    let prevKeyEnd = -1;
    let prevPlain = true;
    for (;;) {
      const keyStart = this.pos;
      const keyPlain = this.key();
      const keyEnd = this.pos;
      if (prevKey >= 0) this.ordered(prevKey, prevKeyEnd, prevPlain, keyStart, keyEnd, keyPlain);
      this.expect(COLON);
      const field = keyPlain ? this.field(keyStart + 1, keyEnd - 1) : NONE;
      const valueStart = this.pos;
      if (field === SEQ) {
        const c = this.at(valueStart);
        if (c !== MINUS && !(c >= ZERO && c <= NINE))
          this.fail("expected `seq` to be an integer", valueStart);
        this.seq = this.number();
      } else {
        this.value(1);
      }
      if (field !== NONE) {
        seen |= 1 << field;
        if (field !== SEQ) this.stringField(field, valueStart);
      }
      if (field === HASH) {
        // Cut one adjoining comma with the member; a record always has other members.
        const first = prevKey < 0;
        this.cutStart = first ? keyStart : keyStart - 1;
        this.cutEnd = first ? this.pos + 1 : this.pos;
      }
      prevKey = keyStart;
      prevKeyEnd = keyEnd;
      prevPlain = keyPlain;
      const c = this.at(this.pos);
      this.pos++;
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) this.fail("expected , or } after a member", this.pos - 1);
    }
    if (this.pos !== end) this.fail("expected the line to end after the record", this.pos);
    if (seen !== ALL_FIELDS) {
      const missing = FIELD_NAMES.findIndex((_, bit) => bit > NONE && (seen & (1 << bit)) === 0);
      this.fail(`expected a \`${FIELD_NAMES[missing]}\` field`, start);
    }
  }

  private stringField(field: number, valueStart: number): void {
    if (this.at(valueStart) !== QUOTE)
      this.fail("expected the chain fields prev, hash, time and type to be strings", valueStart);
    const from = valueStart + 1;
    const to = this.pos - 1;
    if (field === PREV) {
      this.prevFrom = from;
      this.prevTo = to;
    } else if (field === HASH) {
      this.hashFrom = from;
      this.hashTo = to;
    } else if (field === TIME) {
      this.timeFrom = from;
      this.timeTo = to;
    } else {
      this.typeFrom = from;
      this.typeTo = to;
    }
  }

  /** Which chain field a plain top-level key names. */
  private field(from: number, to: number): number {
    const { b } = this;
    const length = to - from;
    const c = b[from];
    if (length === 3) return c === 0x73 && b[from + 1] === 0x65 && b[from + 2] === 0x71 ? SEQ : NONE;
    if (length !== 4) return NONE;
    if (c === 0x68) return this.matches(from, "hash") ? HASH : NONE;
    if (c === 0x70) return this.matches(from, "prev") ? PREV : NONE;
    if (this.matches(from, "time")) return TIME;
    return this.matches(from, "type") ? TYPE : NONE;
  }

  private matches(from: number, word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[from + i] !== word.charCodeAt(i)) return false;
    return true;
  }
}

/** Whether bytes [from, to) are 64 lowercase hex digits. */
export function isHex64(b: Buffer, from: number, to: number): boolean {
  if (to - from !== 64) return false;
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (!((c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

// Date#toISOString: 0 stands for any digit.
const ISO_PATTERN = Buffer.from("0000-00-00T00:00:00.000Z", "latin1");

/** Whether bytes [from, to) are Date#toISOString output: YYYY-MM-DDTHH:mm:ss.sssZ, or ±YYYYYY-… */
export function isIsoTime(b: Buffer, from: number, to: number): boolean {
  let at = from;
  if (to - from === ISO_PATTERN.length + 3) {
    if (b[from] !== 0x2b && b[from] !== MINUS) return false;
    for (let i = from + 1; i < from + 3; i++) if (!isDigit(b[i])) return false;
    at = from + 3;
  } else if (to - from !== ISO_PATTERN.length) {
    return false;
  }
  for (let i = 0; i < ISO_PATTERN.length; i++) {
    const want = ISO_PATTERN[i];
    const c = b[at + i];
    if (want === ZERO ? !isDigit(c) : c !== want) return false;
  }
  return true;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

/** One-off scan with the fields as strings (tests, messages). */
export function scanRecordLine(
  b: Buffer,
  start: number,
  end: number,
): { seq: number; prev: string; hash: string; time: string; type: string; cutStart: number; cutEnd: number } {
  const s = new RecordScanner();
  s.scan(b, start, end);
  return {
    seq: s.seq,
    prev: s.text(s.prevFrom, s.prevTo),
    hash: s.text(s.hashFrom, s.hashTo),
    time: s.text(s.timeFrom, s.timeTo),
    type: s.text(s.typeFrom, s.typeTo),
    cutStart: s.cutStart,
    cutEnd: s.cutEnd,
  };
}
