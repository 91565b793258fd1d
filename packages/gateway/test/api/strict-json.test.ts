import { describe, expect, it } from "vitest";
import { parseStrictJson } from "../../src/api/strict-json.js";

describe("parseStrictJson", () => {
  it.each([
    "{}",
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    ' \t\r\n{ "a" : [ ] , "b" : { } } \n',
    '{"s":"quote \\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 é 😀"}',
    '{"n":[0,-1,9007199254740991,-9007199254740991]}',
    '{"__proto__x":1,"Constructor":2,"proto":3}',
    "[1]",
    '"text"',
  ])("parses %s as JSON.parse does", (text) => {
    expect(parseStrictJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("turns -0 into 0", () => {
    const result = parseStrictJson('{"n":-0}');
    expect(result.ok && Object.is((result.value as { n: number }).n, 0)).toBe(true);
  });

  it.each([
    ["", /expected a JSON value, found the end/],
    ["{", /expected a string key/],
    ['{"a":1,"a":2}', /duplicate key "a"/],
    ['{"x":{"a":1,"b":2,"a":3}}', /duplicate key "a"/],
    ['{"__proto__":{"admin":true}}', /"__proto__"/],
    ['{"constructor":1}', /"constructor"/],
    ['{"x":[{"prototype":1}]}', /"prototype"/],
    ['{"a":1,}', /expected a string key/],
    ["[1,]", /expected a JSON value/],
    ["{'a':1}", /expected a string key/],
    ['{"a":1}/* comment */', /expected the end/],
    ['{"a":1} {}', /expected the end/],
    ['{"a":NaN}', /expected a JSON value/],
    ['{"a":Infinity}', /expected a JSON value/],
    ['{"a":01}', /leading zero/],
    ['{"a":1.5}', /only integers/],
    ['{"a":1e3}', /only integers/],
    ['{"a":9007199254740992}', /beyond/],
    ['{"a":-}', /expected a digit/],
    ['{"a":+1}', /expected a JSON value/],
    ['{"a":tru}', /expected a JSON value/],
    ['{"a":"\\ud800"}', /lone UTF-16 surrogate/],
    ['{"a":"\\udc00"}', /lone UTF-16 surrogate/],
    ['{"a":"\\ud800\\u0041"}', /lone UTF-16 surrogate/],
    ['{"a":"\ud800"}', /lone UTF-16 surrogate/],
    ['{"a":"\\x41"}', /invalid escape/],
    ['{"a":"\\u12"}', /four hex digits/],
    ['{"a":"tab\there"}', /control character/],
    ['{"a":"unterminated}', /unterminated string/],
    ["\ufeff{}", /expected a JSON value/],
    ['{"a"\u00a0:1}', /expected ":"/],
  ])("refuses %j", (text, problem) => {
    const result = parseStrictJson(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });

  it("allows nesting up to the limit and no deeper", () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
    expect(parseStrictJson(nested(32)).ok).toBe(true);
    expect(parseStrictJson(nested(33))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/deeper than 32/),
    });
    expect(parseStrictJson(`${"[".repeat(33)}${"]".repeat(33)}`).ok).toBe(false);
    expect(parseStrictJson(nested(3), 2).ok).toBe(false);
  });

  it("reports where the problem is", () => {
    expect(parseStrictJson('{"a":1,"a":2}')).toEqual({
      ok: false,
      problem: 'a duplicate key "a"',
      offset: 7,
    });
  });
});
