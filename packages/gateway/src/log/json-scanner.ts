/**
 * Checks that bytes are exactly canonical JSON (what canonicalJson writes) without parsing them into
 * objects: verifying a million records is dominated by this and the hash, so it works on bytes and
 * allocates nothing per value. canonical-line.test.ts holds it to canonicalJson(JSON.parse(line)) === line.
 */

/** Nesting allowed in a record; canonicalJson refuses deeper values so the writer and reader agree. */
export const MAX_DEPTH = 64;

/** Why a line is not canonical JSON, and at which byte. */
export class LineError extends Error {}

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const ZERO = 0x30;
export const NINE = 0x39;
export const MINUS = 0x2d;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
// Escapes JSON.stringify writes after a backslash: " \ b f n r t, and the characters they stand for.
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74]);
const SHORT_ESCAPED_CODES = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/** Scans canonical JSON values in bytes [start, end) of `b`; subclasses scan the top level. */
export class CanonicalJsonScanner {
  protected b: Buffer = Buffer.alloc(0);
  protected start = 0;
  protected end = 0;
  protected pos = 0;

  protected reset(b: Buffer, start: number, end: number): void {
    this.b = b;
    this.start = start;
    this.end = end;
    this.pos = start;
  }

  /** A string's content [from, to) (quotes excluded) as a JS string; for messages and tests, not the hot path. */
  text(from: number, to: number): string {
    return JSON.parse(this.b.toString("utf8", from - 1, to + 1)) as string;
  }

  protected value(depth: number): void {
    const c = this.at(this.pos);
    if (c === QUOTE) this.string();
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.container(c === OPEN_BRACE, depth + 1);
    else if (c === MINUS || (c >= ZERO && c <= NINE)) this.number();
    else if (c === 0x74) this.literal("true");
    else if (c === 0x66) this.literal("false");
    else if (c === 0x6e) this.literal("null");
    else this.fail("expected a JSON value", this.pos);
  }

  private container(isObject: boolean, depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`expected at most ${MAX_DEPTH} levels of nesting`, this.pos);
    const close = isObject ? CLOSE_BRACE : CLOSE_BRACKET;
    this.pos++;
    if (this.at(this.pos) === close) {
      this.pos++;
      return;
    }
    let prevKey = -1;
    let prevKeyEnd = -1;
    let prevPlain = true;
    for (;;) {
      if (isObject) {
        const keyStart = this.pos;
        const keyPlain = this.key();
        if (prevKey >= 0) this.ordered(prevKey, prevKeyEnd, prevPlain, keyStart, this.pos, keyPlain);
        prevKey = keyStart;
        prevKeyEnd = this.pos;
        prevPlain = keyPlain;
        this.expect(COLON);
      }
      this.value(depth);
      const c = this.at(this.pos);
      this.pos++;
      if (c === close) return;
      if (c !== COMMA) this.fail(`expected , or ${isObject ? "}" : "]"}`, this.pos - 1);
    }
  }

  /** A string as JSON.stringify writes it: raw characters except " \ and controls; minimal, lowercase escapes. */
  protected string(): void {
    const { b, end } = this;
    if (this.at(this.pos) !== QUOTE) this.fail("expected a string", this.pos);
    let pos = this.pos + 1;
    for (;;) {
      if (pos >= end) this.fail("expected a closing quote", pos);
      const c = b[pos] as number;
      if (c === QUOTE) break;
      if (c === BACKSLASH) pos = this.escape(pos);
      else if (c < 0x20) this.fail("expected control characters to be escaped", pos);
      else pos++;
    }
    this.pos = pos + 1;
  }

  /** Scans a key; returns whether it is printable ASCII with no escapes (so its bytes compare as code units). */
  protected key(): boolean {
    const from = this.pos + 1;
    this.string();
    const { b } = this;
    for (let i = from; i < this.pos - 1; i++) {
      const c = b[i] as number;
      if (c === BACKSLASH || c > 0x7e) return false;
    }
    return true;
  }

  /** Checks the escape at `pos` (a backslash); returns the position after it. */
  private escape(pos: number): number {
    const e = this.at(pos + 1);
    if (SHORT_ESCAPES.has(e)) return pos + 2;
    if (e !== 0x75) this.fail("expected an escape JSON.stringify writes", pos);
    const code = this.hex4(pos + 2);
    if (code < 0x20) {
      if (SHORT_ESCAPED_CODES.has(code))
        this.fail("expected the short escape (\\n, \\t, …) of this character", pos);
    } else if (code >= 0xd800 && code <= 0xdbff) {
      // A high surrogate is escaped only when lone: an escaped pair is written as the character itself.
      if (this.at(pos + 6) === BACKSLASH && this.at(pos + 7) === 0x75) {
        const next = this.hex4(pos + 8);
        if (next >= 0xdc00 && next <= 0xdfff)
          this.fail("expected a surrogate pair as the character itself", pos);
      }
    } else if (code < 0xdc00 || code > 0xdfff) {
      this.fail("expected this character unescaped", pos);
    }
    return pos + 6;
  }

  private hex4(pos: number): number {
    let code = 0;
    for (let i = pos; i < pos + 4; i++) {
      const c = this.at(i);
      const digit = c >= ZERO && c <= NINE ? c - ZERO : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
      if (digit < 0) this.fail("expected four lowercase hex digits in a \\u escape", i);
      code = code * 16 + digit;
    }
    return code;
  }

  /** An integer as canonicalJson writes it: no sign on 0, no leading zero, no fraction or exponent, safe. */
  protected number(): number {
    const from = this.pos;
    const negative = this.at(this.pos) === MINUS;
    if (negative) this.pos++;
    let value = 0;
    let c = this.at(this.pos);
    if (c === ZERO) {
      if (negative) this.fail("expected 0 without a sign", from);
      this.pos++;
      c = this.at(this.pos);
      if (c >= ZERO && c <= NINE) this.fail("expected no leading zero", from);
    } else {
      if (!(c >= ZERO && c <= NINE)) this.fail("expected a digit", this.pos);
      while (c >= ZERO && c <= NINE) {
        value = value * 10 + (c - ZERO);
        this.pos++;
        c = this.at(this.pos);
      }
      // Rounding is monotonic, so an unsafe value still compares above the limit.
      if (value > Number.MAX_SAFE_INTEGER) this.fail("expected a safe integer", from);
    }
    if (c === 0x2e || c === 0x65 || c === 0x45)
      this.fail("expected an integer (no fraction or exponent)", from);
    return negative ? -value : value;
  }

  private literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.at(this.pos + i) !== word.charCodeAt(i)) this.fail(`expected ${word}`, this.pos);
    }
    this.pos += word.length;
  }

  /** Keys must increase strictly in UTF-16 code unit order (which rules out duplicates too). */
  protected ordered(
    aFrom: number,
    aTo: number,
    aPlain: boolean,
    bFrom: number,
    bTo: number,
    bPlain: boolean,
  ): void {
    let less: boolean;
    if (aPlain && bPlain) {
      // Printable ASCII: byte order is code unit order. Compare inside the quotes.
      const { b } = this;
      const aLength = aTo - aFrom - 2;
      const bLength = bTo - bFrom - 2;
      const n = Math.min(aLength, bLength);
      let i = 0;
      while (i < n && b[aFrom + 1 + i] === b[bFrom + 1 + i]) i++;
      less = i < n ? (b[aFrom + 1 + i] as number) < (b[bFrom + 1 + i] as number) : aLength < bLength;
    } else {
      less = this.text(aFrom + 1, aTo - 1) < this.text(bFrom + 1, bTo - 1);
    }
    if (!less) this.fail("expected object keys in sorted order, without duplicates", bFrom);
  }

  protected expect(c: number): void {
    if (this.at(this.pos) !== c) this.fail(`expected ${String.fromCharCode(c)}`, this.pos);
    this.pos++;
  }

  protected at(pos: number): number {
    return pos < this.end ? (this.b[pos] as number) : -1;
  }

  protected fail(message: string, pos: number): never {
    throw new LineError(`${message} at byte ${pos - this.start + 1} of the line`);
  }
}
