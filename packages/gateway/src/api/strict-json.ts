import type { JsonValue } from "../json.js";

/**
 * A strict JSON parser (RFC 8259 grammar plus I-JSON rules). JSON.parse cannot be used: it keeps the
 * last of duplicate keys silently and accepts lone surrogates, and node ships nothing stricter, so this
 * small recursive-descent parser is the dependency-free way. On top of the grammar it refuses:
 * duplicate keys, the keys `__proto__`, `constructor` and `prototype` (prototype pollution downstream),
 * nesting deeper than `maxDepth`, lone surrogates, and numbers that are not safe integers — the gateway
 * stores no floats (see json.ts), and a float accepted here could not be hashed or compared reliably.
 */
export type StrictJsonResult =
  | { readonly ok: true; readonly value: JsonValue }
  | { readonly ok: false; readonly problem: string; readonly offset: number };

export const DEFAULT_MAX_DEPTH = 32;

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function parseStrictJson(text: string, maxDepth = DEFAULT_MAX_DEPTH): StrictJsonResult {
  // With the u flag a well-formed pair is one code point, so this finds only lone surrogates.
  const lone = /\p{Cs}/u.exec(text);
  if (lone) return { ok: false, problem: "a lone UTF-16 surrogate", offset: lone.index };
  try {
    return { ok: true, value: new Parser(text, maxDepth).document() };
  } catch (error) {
    if (error instanceof ParseFailure) return { ok: false, problem: error.message, offset: error.offset };
    throw error;
  }
}

class ParseFailure extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

class Parser {
  #pos = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  document(): JsonValue {
    this.#whitespace();
    const value = this.#value(0);
    this.#whitespace();
    if (this.#pos < this.text.length) this.#fail("expected the end of the document");
    return value;
  }

  #value(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.#pos);
    if (c === 0x7b) return this.#object(depth + 1);
    if (c === 0x5b) return this.#array(depth + 1);
    if (c === 0x22) return this.#string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#number();
    if (this.text.startsWith("true", this.#pos)) return this.#literal(4, true);
    if (this.text.startsWith("false", this.#pos)) return this.#literal(5, false);
    if (this.text.startsWith("null", this.#pos)) return this.#literal(4, null);
    return this.#fail("expected a JSON value");
  }

  #literal(length: number, value: boolean | null): boolean | null {
    this.#pos += length;
    return value;
  }

  #object(depth: number): JsonValue {
    this.#checkDepth(depth);
    this.#pos++;
    const out: Record<string, JsonValue> = {};
    this.#whitespace();
    if (this.#eat(0x7d)) return out;
    for (;;) {
      const keyOffset = this.#pos;
      if (this.text.charCodeAt(this.#pos) !== 0x22) this.#fail("expected a string key");
      const key = this.#string();
      if (FORBIDDEN_KEYS.has(key)) this.#refuse(`the key "${key}", which is not accepted`, keyOffset);
      if (Object.hasOwn(out, key)) this.#refuse(`a duplicate key "${key}"`, keyOffset);
      this.#whitespace();
      if (!this.#eat(0x3a)) this.#fail('expected ":"');
      this.#whitespace();
      out[key] = this.#value(depth);
      this.#whitespace();
      if (this.#eat(0x7d)) return out;
      if (!this.#eat(0x2c)) this.#fail('expected "," or "}"');
      this.#whitespace();
    }
  }

  #array(depth: number): JsonValue {
    this.#checkDepth(depth);
    this.#pos++;
    const out: JsonValue[] = [];
    this.#whitespace();
    if (this.#eat(0x5d)) return out;
    for (;;) {
      out.push(this.#value(depth));
      this.#whitespace();
      if (this.#eat(0x5d)) return out;
      if (!this.#eat(0x2c)) this.#fail('expected "," or "]"');
      this.#whitespace();
    }
  }

  #string(): string {
    const start = this.#pos;
    this.#pos++;
    let out = "";
    let chunk = this.#pos;
    for (;;) {
      if (this.#pos >= this.text.length) this.#fail("unterminated string", start);
      const c = this.text.charCodeAt(this.#pos);
      if (c === 0x22) {
        out += this.text.slice(chunk, this.#pos);
        this.#pos++;
        return out;
      }
      if (c < 0x20) this.#fail("a control character in a string (escape it)");
      if (c === 0x5c) {
        out += this.text.slice(chunk, this.#pos);
        this.#pos++;
        out += this.#escape();
        chunk = this.#pos;
        continue;
      }
      this.#pos++;
    }
  }

  #escape(): string {
    const c = this.text[this.#pos];
    const simple = c === undefined ? undefined : SIMPLE_ESCAPES[c];
    if (simple !== undefined) {
      this.#pos++;
      return simple;
    }
    if (c !== "u") return this.#fail("an invalid escape");
    this.#pos++;
    const unit = this.#hex4();
    if (unit >= 0xdc00 && unit <= 0xdfff) this.#fail("a lone UTF-16 surrogate escape", this.#pos - 6);
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (!this.text.startsWith("\\u", this.#pos)) this.#fail("a lone UTF-16 surrogate escape", this.#pos - 6);
    this.#pos += 2;
    const low = this.#hex4();
    if (low < 0xdc00 || low > 0xdfff) this.#fail("a lone UTF-16 surrogate escape", this.#pos - 12);
    return String.fromCharCode(unit, low);
  }

  #hex4(): number {
    const digits = this.text.slice(this.#pos, this.#pos + 4);
    if (!/^[0-9A-Fa-f]{4}$/.test(digits)) this.#fail("expected four hex digits after \\u");
    this.#pos += 4;
    return Number.parseInt(digits, 16);
  }

  #number(): number {
    const start = this.#pos;
    this.#eat(0x2d);
    if (!this.#eat(0x30)) {
      const first = this.text.charCodeAt(this.#pos);
      if (!(first >= 0x31 && first <= 0x39)) this.#fail("expected a digit");
      while (isDigit(this.text.charCodeAt(this.#pos))) this.#pos++;
    }
    const next = this.text.charCodeAt(this.#pos);
    if (next === 0x2e || next === 0x65 || next === 0x45) {
      this.#fail("a fraction or exponent (only integers are accepted)");
    }
    if (isDigit(next)) this.#fail("a leading zero", start);
    const value = Number(this.text.slice(start, this.#pos));
    if (!Number.isSafeInteger(value)) this.#fail("an integer beyond ±(2^53 − 1)", start);
    return value === 0 ? 0 : value; // -0 becomes 0.
  }

  #checkDepth(depth: number): void {
    if (depth > this.maxDepth) this.#fail(`nesting deeper than ${this.maxDepth} levels`);
  }

  #whitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.#pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.#pos++;
    }
  }

  #eat(code: number): boolean {
    if (this.text.charCodeAt(this.#pos) !== code) return false;
    this.#pos++;
    return true;
  }

  /** A grammar problem: says what was expected and quotes what was found. */
  #fail(problem: string, offset = this.#pos): never {
    this.#refuse(`${problem}, found ${describe(this.text, offset)}`, offset);
  }

  #refuse(problem: string, offset: number): never {
    throw new ParseFailure(problem, offset);
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function describe(text: string, offset: number): string {
  if (offset >= text.length) return "the end of the input";
  const excerpt = text.slice(offset, offset + 12);
  return JSON.stringify(excerpt.length < text.length - offset ? `${excerpt}…` : excerpt);
}
