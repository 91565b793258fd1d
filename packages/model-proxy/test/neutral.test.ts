import { describe, expect, it } from "vitest";
import { estimateInputTokens, estimateTokens, NEUTRAL_LIMITS, parseCompleteRequest } from "../src/index.js";

const user = (content: string) => ({ role: "user", content });
const base = { system: "", messages: [user("hi")], tools: [] };
const problem = (value: unknown): string => {
  const parsed = parseCompleteRequest(value);
  return parsed.ok ? "" : parsed.message;
};

describe("the neutral request", () => {
  it("accepts the documented shape", () => {
    const parsed = parseCompleteRequest({
      system: "s",
      messages: [
        user("fetch it"),
        {
          role: "assistant",
          content: [
            { type: "text", text: "ok" },
            { type: "tool_call", id: "toolu_1", name: "http_fetch", input: { url: "https://x.test/" } },
          ],
        },
        { role: "tool", results: [{ toolCallId: "toolu_1", output: "<html>", isError: false }] },
      ],
      tools: [{ name: "http_fetch", description: "Fetch", inputSchema: { type: "object" } }],
      maxOutputTokens: 100,
    });
    expect(parsed.ok).toBe(true);
  });

  it("refuses unknown fields at every level", () => {
    expect(problem({ ...base, model: "gpt-4o" })).toMatch(/model/);
    expect(problem({ ...base, provider: "openai" })).toMatch(/provider/);
    expect(problem({ ...base, messages: [{ role: "user", content: "x", name: "bob" }] })).toMatch(/name/);
    expect(
      problem({ ...base, tools: [{ name: "t", description: "", inputSchema: {}, strict: true }] }),
    ).toMatch(/strict/);
    expect(problem({ ...base, messages: [{ role: "system", content: "x" }] })).not.toBe("");
  });

  it("refuses missing fields and wrong types", () => {
    expect(problem({ messages: [user("x")], tools: [] })).toMatch(/system/);
    expect(problem({ ...base, messages: [] })).not.toBe("");
    expect(problem({ ...base, maxOutputTokens: 0 })).toMatch(/maxOutputTokens/);
    expect(problem({ ...base, maxOutputTokens: 1.5 })).toMatch(/maxOutputTokens/);
    expect(problem({ ...base, maxOutputTokens: NEUTRAL_LIMITS.maxOutputTokens + 1 })).toMatch(
      /maxOutputTokens/,
    );
    expect(problem([base])).not.toBe("");
    expect(problem(null)).not.toBe("");
  });

  it("bounds every list and text", () => {
    expect(problem({ ...base, messages: Array.from({ length: 257 }, () => user("x")) })).toMatch(/messages/);
    expect(parseCompleteRequest({ ...base, messages: Array.from({ length: 256 }, () => user("x")) }).ok).toBe(
      true,
    );
    const tool = (i: number) => ({ name: `t${i}`, description: "", inputSchema: {} });
    expect(problem({ ...base, tools: Array.from({ length: 129 }, (_, i) => tool(i)) })).toMatch(/tools/);
    expect(parseCompleteRequest({ ...base, tools: Array.from({ length: 128 }, (_, i) => tool(i)) }).ok).toBe(
      true,
    );
    expect(problem({ ...base, system: "s".repeat(NEUTRAL_LIMITS.systemChars + 1) })).toMatch(/system/);
    expect(problem({ ...base, messages: [user("u".repeat(NEUTRAL_LIMITS.textChars + 1))] })).toMatch(
      /content/,
    );
    expect(problem({ ...base, tools: [{ ...tool(0), description: "d".repeat(4097) }] })).toMatch(
      /description/,
    );
  });

  it("bounds the depth and size of tool input and schemas", () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 40; i += 1) deep = { a: deep };
    expect(problem({ ...base, tools: [{ name: "t", description: "", inputSchema: deep }] })).toMatch(
      /inputSchema/,
    );
    const wide = Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i]));
    expect(problem({ ...base, tools: [{ name: "t", description: "", inputSchema: wide }] })).toMatch(
      /inputSchema/,
    );
    expect(problem({ ...base, tools: [{ name: "t", description: "", inputSchema: [] }] })).toMatch(
      /inputSchema/,
    );
  });

  it("refuses tool names and ids a provider would refuse or a terminal would hide", () => {
    expect(problem({ ...base, tools: [{ name: "has space", description: "", inputSchema: {} }] })).toMatch(
      /name/,
    );
    expect(problem({ ...base, tools: [{ name: "t".repeat(65), description: "", inputSchema: {} }] })).toMatch(
      /name/,
    );
    expect(problem({ ...base, tools: [{ name: "fetch\u200b", description: "", inputSchema: {} }] })).toMatch(
      /name/,
    );
    const call = {
      role: "assistant",
      content: [{ type: "tool_call", id: "id with space", name: "t", input: {} }],
    };
    expect(problem({ ...base, messages: [user("x"), call] })).toMatch(/id/);
  });

  it("checks the conversation's order", () => {
    expect(problem({ ...base, messages: [{ role: "assistant", content: [] }] })).toMatch(
      /start with a user message/,
    );
    const call = { role: "assistant", content: [{ type: "tool_call", id: "c1", name: "t", input: {} }] };
    const result = (id: string) => ({
      role: "tool",
      results: [{ toolCallId: id, output: "o", isError: false }],
    });
    expect(parseCompleteRequest({ ...base, messages: [user("x"), call, result("c1")] }).ok).toBe(true);
    expect(problem({ ...base, messages: [user("x"), call, result("c2")] })).toMatch(/found c2/);
    expect(problem({ ...base, messages: [user("x"), result("c1")] })).toMatch(/tool result/);
    const tool = { name: "t", description: "", inputSchema: {} };
    expect(problem({ ...base, tools: [tool, tool] })).toMatch(/listed twice/);
  });

  it("keeps __proto__ and constructor in tool input as plain data", () => {
    const value = JSON.parse(
      '{"system":"","tools":[],"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_call","id":"c","name":"t","input":{"__proto__":{"admin":true},"constructor":"x"}}]}]}',
    );
    const parsed = parseCompleteRequest(value);
    expect(parsed.ok).toBe(true);
    const block =
      parsed.ok && parsed.request.messages[1]?.role === "assistant"
        ? parsed.request.messages[1].content[0]
        : undefined;
    expect(block?.type === "tool_call" ? Object.keys(block.input) : []).toEqual(["__proto__", "constructor"]);
    expect(block?.type === "tool_call" ? (block.input as { admin?: unknown }).admin : "").toBeUndefined();
  });

  it("counts tokens deterministically from UTF-8 bytes", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
    expect(estimateTokens("é")).toBe(1);
    expect(estimateTokens("😀😀")).toBe(2);
    expect(estimateInputTokens({ system: "", messages: [{ role: "user", content: "hi" }], tools: [] })).toBe(
      Math.ceil(
        JSON.stringify({ system: "", messages: [{ role: "user", content: "hi" }], tools: [] }).length / 4,
      ),
    );
  });
});

describe("the bounds the README states", () => {
  it("are the ones in force", async () => {
    const { DEFAULT_HTTP_LIMITS, DEFAULT_PROXY_LIMITS } = await import("../src/index.js");
    expect(DEFAULT_HTTP_LIMITS).toMatchObject({
      responseHeaderBytes: 16 * 1024,
      responseBodyBytes: 8 * 1024 * 1024,
    });
    expect(DEFAULT_PROXY_LIMITS).toMatchObject({ requestBodyBytes: 1024 * 1024, queue: 4 });
    expect(NEUTRAL_LIMITS).toMatchObject({
      bodyBytes: 1024 * 1024,
      messages: 256,
      tools: 128,
      jsonDepth: 32,
      jsonNodes: 10_000,
    });
  });
});
