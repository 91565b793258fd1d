import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/json.js";
import { MAX_DEPTH, scanRecordLine } from "../../src/log/canonical-line.js";
import { canonicalJson } from "../../src/log/index.js";

const HEAD = '{"hash":"h","prev":"p","seq":1,"time":"t","type":"x","v":';

/** A record line carrying `valueText` as its last field. */
function wrap(valueText: string): string {
  return `${HEAD}${valueText}}`;
}

function scans(text: string): boolean {
  const bytes = Buffer.from(text);
  try {
    scanRecordLine(bytes, 0, bytes.length);
    return true;
  } catch {
    return false;
  }
}

/** The definition the scanner must agree with: the text is canonicalJson of what it parses to. */
function isCanonicalRecord(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (canonicalJson(value as JsonValue) !== text) return false;
  } catch {
    return false;
  }
  const record = value as Record<string, unknown>;
  return (
    typeof record === "object" &&
    record !== null &&
    !Array.isArray(record) &&
    Number.isSafeInteger(record.seq) &&
    ["prev", "hash", "time", "type"].every((key) => typeof record[key] === "string")
  );
}

const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.string({ unit: "binary" }),
    fc.constantFrom("\ud800", "\udfff", "a\ud83d", "\u2028", "\u007f", "\u001f\b\t\n\f\r", "/"),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("1", "10", "9", "\uff21", "\u{1f600}")),
      tie("value"),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value as fc.Arbitrary<JsonValue>;

const junk = fc.constantFrom(
  " ",
  "\n",
  "0",
  "-",
  ".",
  "e",
  '"',
  "\\",
  "u",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "a",
  "A",
  "é",
  "1",
  "\\u0041",
  "\\/",
  "\\ud83d\\ude00",
  "\\uD800",
  "\\u000a",
  "\\u001F",
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: junk }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
);

type Mutation =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "swap"; at: number };

function mutate(text: string, change: Mutation): string {
  const at = change.at % (text.length + 1);
  if (change.kind === "insert") return text.slice(0, at) + change.text + text.slice(at);
  if (change.kind === "delete") return text.slice(0, at) + text.slice(at + change.length);
  if (at + 1 >= text.length) return text;
  return text.slice(0, at) + text[at + 1] + text[at] + text.slice(at + 2);
}

describe("scanRecordLine", () => {
  it("accepts exactly what canonicalJson writes, and finds the chain fields and the hash member", () => {
    fc.assert(
      fc.property(json, fc.maxSafeInteger(), fc.string(), (value, seq, type) => {
        const record = {
          hash: "a".repeat(64),
          prev: "b".repeat(64),
          seq,
          time: "2030-01-01T00:00:00.000Z",
          type,
          value,
        };
        const bytes = Buffer.from(canonicalJson(record));
        const scanned = scanRecordLine(bytes, 0, bytes.length);
        expect(scanned).toMatchObject({ seq, prev: record.prev, hash: record.hash, type });
        const { hash: _hash, ...body } = record;
        const cut = Buffer.concat([bytes.subarray(0, scanned.cutStart), bytes.subarray(scanned.cutEnd)]);
        expect(cut.toString()).toBe(canonicalJson(body));
      }),
    );
  });

  it("finds the hash member when it is the first key", () => {
    const text = canonicalJson({ hash: "h", prev: "p", seq: 1, time: "t", type: "x" });
    const scanned = scanRecordLine(Buffer.from(text), 0, text.length);
    expect(text.slice(0, scanned.cutStart) + text.slice(scanned.cutEnd)).toBe(
      '{"prev":"p","seq":1,"time":"t","type":"x"}',
    );
  });

  it("agrees with canonicalJson(JSON.parse(line)) === line on mutated lines", () => {
    fc.assert(
      fc.property(json, fc.array(mutation, { minLength: 1, maxLength: 3 }), (value, changes) => {
        let text = wrap(canonicalJson(value));
        for (const change of changes) text = mutate(text, change);
        // Bytes as written to disk; lone surrogates in `text` become U+FFFD, so compare on what was decoded.
        const decoded = Buffer.from(text).toString();
        expect(scans(decoded)).toBe(isCanonicalRecord(decoded));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ["whitespace", wrap(" 1")],
    ["a leading zero", wrap("01")],
    ["-0", wrap("-0")],
    ["a fraction", wrap("1.0")],
    ["an exponent", wrap("1e2")],
    ["an unsafe integer", wrap("9007199254740992")],
    ["an unneeded escape", wrap('"\\u0041"')],
    ["an escaped slash", wrap('"\\/"')],
    ["an uppercase escape", wrap('"\\u001F"')],
    ["a long escape for a short one", wrap('"\\u000a"')],
    ["an escaped surrogate pair", wrap('"\\ud83d\\ude00"')],
    ["a raw control character", wrap('"\t"')],
    ["unsorted keys", wrap('{"b":1,"a":2}')],
    ["a duplicate key", wrap('{"a":1,"a":2}')],
    ["integer-like keys in numeric order", wrap('{"9":1,"10":2}')],
    ["keys in code point order", wrap('{"\uff21":1,"\u{1f600}":2}')],
    ["a trailing comma", wrap("[1,]")],
    ["text after the record", `${wrap("1")} `],
    ["a string seq", '{"hash":"h","prev":"p","seq":"1","time":"t","type":"x"}'],
    ["a missing field", '{"hash":"h","prev":"p","seq":1,"time":"t"}'],
    ["a top-level array", "[1]"],
  ])("refuses %s", (_name, text) => {
    expect(scans(text)).toBe(false);
    expect(isCanonicalRecord(text)).toBe(false);
  });

  it.each([
    ["a lone surrogate escape", wrap('"\\ud800x\\udc00"')],
    ["integer-like keys in UTF-16 order", wrap('{"10":2,"9":1}')],
    ["keys in UTF-16 order", wrap('{"\u{1f600}":2,"\uff21":1}')],
    ["empty containers", wrap('[{},[],""]')],
    ["the largest safe integers", wrap("[-9007199254740991,9007199254740991]")],
  ])("accepts %s", (_name, text) => {
    expect(isCanonicalRecord(text)).toBe(true);
    expect(scans(text)).toBe(true);
  });

  it("allows the nesting canonicalJson writes and no more", () => {
    let deepest: JsonValue = 1;
    for (let depth = 2; depth <= MAX_DEPTH; depth++) deepest = [deepest];
    expect(scans(wrap(canonicalJson(deepest)))).toBe(true);
    expect(canonicalJson({ v: deepest })).toBe(wrap(canonicalJson(deepest)).replace(HEAD, '{"v":'));
    expect(() => canonicalJson({ v: [deepest] })).toThrow(TypeError);
    expect(scans(wrap(`[${canonicalJson(deepest)}]`))).toBe(false);
  });

  it("hashes what the writer hashed", () => {
    const record = { a: 1, hash: "0".repeat(64), prev: "1".repeat(64), seq: 3, time: "t", type: "x", z: "é" };
    const bytes = Buffer.from(canonicalJson(record));
    const { cutStart, cutEnd } = scanRecordLine(bytes, 0, bytes.length);
    const { hash: _hash, ...body } = record;
    const expected = createHash("sha256").update(canonicalJson(body)).digest("hex");
    const actual = createHash("sha256")
      .update(bytes.subarray(0, cutStart))
      .update(bytes.subarray(cutEnd))
      .digest("hex");
    expect(actual).toBe(expected);
  });
});
