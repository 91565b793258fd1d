import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/json.js";
import { canonicalJson } from "../../src/log/index.js";

describe("canonicalJson", () => {
  it("sorts keys recursively and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, { d: "x", c: -2 }] })).toBe(
      '{"a":[true,null,{"c":-2,"d":"x"}],"b":1}',
    );
  });

  it("orders keys by UTF-16 code units, not code points or locale", () => {
    // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FF21 in UTF-16 but after it by code point.
    expect(canonicalJson({ "\uff21": 1, "\u{1f600}": 2, B: 3, a: 4 })).toBe(
      '{"B":3,"a":4,"\u{1f600}":2,"\uff21":1}',
    );
  });

  it("escapes strings as JSON.stringify does, including lone surrogates", () => {
    expect(canonicalJson('a"\\\n\u0001\ud800é')).toBe('"a\\"\\\\\\n\\u0001\\ud800é"');
  });

  it("writes -0 as 0", () => {
    expect(canonicalJson(-0)).toBe("0");
    expect(canonicalJson({ z: -0 })).toBe('{"z":0}');
  });

  it.each([
    ["a float", 1.5],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["an unsafe integer", 2 ** 53],
  ])("refuses %s", (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
    expect(() => canonicalJson({ nested: [value] })).toThrow(TypeError);
  });

  it("refuses undefined, holes, class instances and other types", () => {
    expect(() => canonicalJson({ a: undefined } as unknown as JsonValue)).toThrow(TypeError);
    expect(() => canonicalJson(new Array(3) as unknown as JsonValue)).toThrow(TypeError);
    expect(() => canonicalJson(new Date(0) as unknown as JsonValue)).toThrow(TypeError);
    expect(() => canonicalJson(10n as unknown as JsonValue)).toThrow(TypeError);
    expect(() => canonicalJson((() => 1) as unknown as JsonValue)).toThrow(TypeError);
  });

  it("keeps a __proto__ key as data", () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":2}') as JsonValue;
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":1},"a":2}');
  });

  it("is a fixed point of parse and agrees with JSON.stringify on the values", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.boolean(),
        fc.maxSafeInteger(),
        fc.string({ unit: "binary" }),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(fc.string({ unit: "binary" }), tie("value"), { maxKeys: 4 }),
      ),
    })).value as fc.Arbitrary<JsonValue>;
    fc.assert(
      fc.property(json, (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(JSON.parse(text) as JsonValue)).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});
