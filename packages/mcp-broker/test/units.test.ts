import { describe, expect, it } from "vitest";
import {
  argumentsDigest,
  DEFAULT_MCP_LIMITS,
  jcs,
  schemaProblem,
  startMcpBroker,
  toolDigest,
  validationProblem,
} from "../src/index.js";
import { approvedTools } from "../src/names.js";
import { formatResult } from "../src/result.js";

describe("the canonical form and digests", () => {
  it("digests {name, description, inputSchema} as sha256sum does over the JCS bytes", () => {
    // printf '{"description":"d","inputSchema":{"type":"object"},"name":"t"}' | sha256sum
    expect(toolDigest({ name: "t", description: "d", inputSchema: { type: "object" } })).toBe(
      "sha256:d526dac93520a3edd71a249d55aefa9159fbdf863db7ddc110028e58fe35721c",
    );
  });

  it("leaves an absent description out, so it differs from an empty one", () => {
    const bare = toolDigest({ name: "t", inputSchema: { type: "object" } });
    expect(bare).not.toBe(toolDigest({ name: "t", description: "", inputSchema: { type: "object" } }));
    expect(bare).toBe(toolDigest({ name: "t", description: undefined, inputSchema: { type: "object" } }));
  });

  it("is blind to key order and whitespace, and sees every other change", () => {
    const a = JSON.parse('{"b":[1,{"y":2,"x":1}],"a":"\\u00e9"}') as unknown;
    const b = JSON.parse('{ "a": "é", "b": [1, {"x": 1, "y": 2}] }') as unknown;
    expect(jcs(a)).toBe(jcs(b));
    expect(argumentsDigest(a)).toBe(argumentsDigest(b));
    expect(argumentsDigest({ a: 1 })).not.toBe(argumentsDigest({ a: 1.5 }));
  });

  it("holds keys named __proto__ and constructor as plain keys", () => {
    const value = JSON.parse('{"__proto__":{"x":1},"constructor":2}') as unknown;
    expect(jcs(value)).toBe('{"__proto__":{"x":1},"constructor":2}');
  });

  it.each([
    ["a lone surrogate", { a: "\ud800" }],
    ["a lone surrogate in a key", JSON.parse('{"\\udc00":1}') as unknown],
    ["NaN", { a: Number.NaN }],
    ["Infinity", [Number.POSITIVE_INFINITY]],
    ["undefined", { a: undefined }],
    ["a function", { a: () => 1 }],
    ["a class instance", { a: new Date(0) }],
    ["nesting past 64 levels", JSON.parse(`${"[".repeat(70)}${"]".repeat(70)}`) as unknown],
  ])("refuses %s", (_what, value) => {
    expect(() => jcs(value)).toThrow(TypeError);
  });
});

describe("the schema subset", () => {
  it.each([
    [
      "pattern (a server's regex would run on the host)",
      { type: "object", properties: { a: { pattern: "^(a+)+$" } } },
    ],
    ["$ref", { $ref: "#/$defs/x" }],
    ["an unknown keyword", { type: "object", frobnicate: true }],
    ["a type that is not a JSON type", { type: "date" }],
    ["a bound that is not a count", { maxLength: -1 }],
    ["an empty anyOf", { anyOf: [] }],
    ["nesting past 32 levels", JSON.parse(`${'{"items":'.repeat(40)}{}${"}".repeat(40)}`) as unknown],
    ["a schema that is a string", "object"],
  ])("refuses %s", (_what, schema) => {
    expect(schemaProblem(schema)).toBeDefined();
  });

  it("checks own properties only: constructor and __proto__ are names, not the prototype's", () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"string"}},"required":["__proto__"],"additionalProperties":false}',
    ) as Record<string, unknown>;
    expect(schemaProblem(schema)).toBeUndefined();
    expect(validationProblem(schema, JSON.parse('{"__proto__":"x"}'))).toBeUndefined();
    expect(validationProblem(schema, JSON.parse('{"__proto__":1}'))).toMatch(/__proto__/);
    expect(validationProblem(schema, {})).toMatch(/expected the property "__proto__"/);
    expect(validationProblem(schema, JSON.parse('{"__proto__":"x","constructor":1}'))).toMatch(
      /"constructor" is not allowed/,
    );
  });

  it("counts a string's length in code points", () => {
    expect(validationProblem({ type: "string", maxLength: 1 }, "😀")).toBeUndefined();
    expect(validationProblem({ type: "string", maxLength: 1 }, "😀😀")).toBeDefined();
  });
});

describe("what the agent gets of a result", () => {
  it("joins text, names other blocks, and cuts at a character boundary, saying so", () => {
    const result = formatResult(
      {
        content: [
          { type: "text", text: "é".repeat(10) },
          { type: "image", data: "", mimeType: "image/png" },
        ],
      },
      5,
    );
    expect(result.output).toBe(`éé\n[output cut: it was longer than the broker passes on]`);
    expect(formatResult({ content: [{ type: "image", data: "", mimeType: "image/png" }] }, 100).output).toBe(
      "[image content not passed on]",
    );
    expect(formatResult({ content: [], structuredContent: { a: 1 }, isError: true }, 100)).toMatchObject({
      output: '{"a":1}',
      isError: true,
    });
  });
});

describe("approved names", () => {
  it("never lets two approvals share one full name: neither is callable", () => {
    const digest = `sha256:${"0".repeat(64)}`;
    const http = { type: "http" as const, url: "https://a.example/" };
    const tools = approvedTools([
      { name: "a", transport: http, tools: [{ name: "b__c", digest }] },
      {
        name: "a__b",
        transport: http,
        tools: [
          { name: "c", digest },
          { name: "d", digest },
        ],
      },
    ]);
    expect([...tools.keys()]).toEqual(["mcp__a__b__d"]);
  });

  it("refuses limits that are not positive integers", () => {
    expect(() =>
      startMcpBroker({ servers: () => [], audit: () => {}, limits: { callTimeoutMs: 0 } }),
    ).toThrow(expect.objectContaining({ code: "IC_MCP_OPTIONS_INVALID" }) as Error);
    expect(DEFAULT_MCP_LIMITS.callTimeoutMs).toBeLessThan(30_000);
  });
});
