import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_HTTP_LIMITS, openAiProvider } from "../src/index.js";
import { callProxy, FakeProvider, fixture, type ProxyHarness, providersOf, startHarness } from "./helpers.js";

// The fake answers with response bodies OpenAI's live API produced, recorded in the official Python
// SDK's tests (fixtures/NOTICE). Request shapes checked against the Chat Completions reference and
// Ollama's OpenAI-compatibility page: POST {base}/chat/completions, Authorization: Bearer, role
// system/user/assistant(tool_calls, arguments as a JSON string)/tool(tool_call_id), tools of type
// "function", max_tokens (Ollama) or max_completion_tokens (newer OpenAI models).
const KEY = "sk-proj-PLANTED-openai-0c8d3b6e2a";
const MODEL = "gpt-4o-2024-08-06";
const TOOLS = [
  {
    name: "GetWeatherArgs",
    description: "Get the temperature for the given country/city combo",
    inputSchema: { type: "object", properties: { city: { type: "string" }, country: { type: "string" } } },
  },
  {
    name: "get_stock_price",
    description: "Fetch the latest price for a given ticker",
    inputSchema: { type: "object", properties: { ticker: { type: "string" }, exchange: { type: "string" } } },
  },
];

let fake: FakeProvider;
let harness: ProxyHarness;
const limits = { ...DEFAULT_HTTP_LIMITS, deadlineMs: 5_000 };

beforeAll(async () => {
  fake = await FakeProvider.start();
  harness = await startHarness({
    providers: providersOf(
      openAiProvider({
        name: "openai",
        baseUrl: new URL(`${fake.origin}/v1`),
        apiKey: KEY,
        models: [MODEL],
        limits,
      }),
      openAiProvider({
        name: "newer",
        baseUrl: new URL(`${fake.origin}/v1/`),
        apiKey: KEY,
        models: null,
        maxTokensField: "max_completion_tokens",
        limits,
      }),
      openAiProvider({
        name: "ollama",
        baseUrl: new URL(`${fake.origin}/v1`),
        apiKey: undefined,
        models: null,
        limits,
      }),
    ),
    approval: { provider: "openai", model: MODEL, maxOutputTokens: 2000, dailyTokens: 1_000_000 },
  });
});
afterAll(async () => {
  await harness.close();
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  harness.events.length = 0;
  harness.approval = { provider: "openai", model: MODEL, maxOutputTokens: 2000, dailyTokens: 1_000_000 };
});

describe("OpenAI-compatible Chat Completions", () => {
  it("sends exactly the documented request and translates two recorded tool calls back", async () => {
    fake.reply(200, await fixture("openai-python/two-tool-calls.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "Be brief.",
      messages: [
        { role: "user", content: "What's the weather like in Edinburgh?" },
        { role: "assistant", content: [{ type: "text", text: "Asking." }] },
        { role: "user", content: "What's the price of AAPL?" },
      ],
      tools: TOOLS,
      maxOutputTokens: 300,
    });
    const seen = fake.seen[0];
    expect(seen?.method).toBe("POST");
    expect(seen?.url).toBe("/v1/chat/completions");
    expect(seen?.headers).toEqual({
      host: fake.origin.replace("http://", ""),
      connection: "close",
      "content-type": "application/json",
      accept: "application/json",
      authorization: `Bearer ${KEY}`,
      "content-length": String(Buffer.byteLength(seen?.body ?? "")),
    });
    expect(seen?.body).toBe(
      JSON.stringify({
        model: MODEL,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "What's the weather like in Edinburgh?" },
          { role: "assistant", content: "Asking." },
          { role: "user", content: "What's the price of AAPL?" },
        ],
        tools: TOOLS.map((t) => ({
          type: "function",
          function: { name: t.name, description: t.description, parameters: t.inputSchema },
        })),
        max_tokens: 300,
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      content: [
        {
          type: "tool_call",
          id: "call_fdNz3vOBKYgOIpMdWotB9MjY",
          name: "GetWeatherArgs",
          input: { city: "Edinburgh", country: "GB", units: "c" },
        },
        {
          type: "tool_call",
          id: "call_h1DWI1POMJLb0KwIyQHWXD4p",
          name: "get_stock_price",
          input: { ticker: "AAPL", exchange: "NASDAQ" },
        },
      ],
      stop: "tool_calls",
      usage: { inputTokens: 149, outputTokens: 60 },
      provider: "openai",
      model: MODEL,
    });
  });

  it("sends tool calls back with arguments as a JSON string and results as role tool", async () => {
    fake.reply(200, await fixture("openai-python/text.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [
        { role: "user", content: "Weather and AAPL?" },
        {
          role: "assistant",
          content: [
            {
              type: "tool_call",
              id: "call_fdNz3vOBKYgOIpMdWotB9MjY",
              name: "GetWeatherArgs",
              input: { city: "Edinburgh" },
            },
            {
              type: "tool_call",
              id: "call_h1DWI1POMJLb0KwIyQHWXD4p",
              name: "get_stock_price",
              input: { ticker: "AAPL" },
            },
          ],
        },
        {
          role: "tool",
          results: [
            { toolCallId: "call_fdNz3vOBKYgOIpMdWotB9MjY", output: "12°C", isError: false },
            { toolCallId: "call_h1DWI1POMJLb0KwIyQHWXD4p", output: "market closed", isError: true },
          ],
        },
      ],
      tools: TOOLS,
    });
    expect(JSON.parse(fake.seen[0]?.body ?? "").messages).toEqual([
      { role: "user", content: "Weather and AAPL?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_fdNz3vOBKYgOIpMdWotB9MjY",
            type: "function",
            function: { name: "GetWeatherArgs", arguments: '{"city":"Edinburgh"}' },
          },
          {
            id: "call_h1DWI1POMJLb0KwIyQHWXD4p",
            type: "function",
            function: { name: "get_stock_price", arguments: '{"ticker":"AAPL"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "call_fdNz3vOBKYgOIpMdWotB9MjY", content: "12°C" },
      // Chat Completions has no error flag on a tool message: the text carries it.
      { role: "tool", tool_call_id: "call_h1DWI1POMJLb0KwIyQHWXD4p", content: "ERROR: market closed" },
    ]);
    expect(JSON.parse(fake.seen[0]?.body ?? "").max_tokens).toBe(2000);
    expect(answer.json).toMatchObject({
      content: [{ type: "text", text: expect.stringMatching(/^I'm unable to provide real-time weather/) }],
      stop: "end",
      usage: { inputTokens: 14, outputTokens: 28 },
    });
  });

  it("maps finish_reason length to max_tokens", async () => {
    fake.reply(200, await fixture("openai-python/length.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "x" }],
      tools: [],
    });
    expect(answer.json).toMatchObject({
      content: [{ type: "text", text: '{"' }],
      stop: "max_tokens",
      usage: { inputTokens: 79, outputTokens: 1 },
    });
  });

  it("names the cap max_completion_tokens when the provider is configured so", async () => {
    harness.approval = { provider: "newer", model: "o4-mini", maxOutputTokens: 77, dailyTokens: 1_000_000 };
    fake.reply(200, await fixture("openai-python/text.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "x" }],
      tools: [],
    });
    expect(answer.status).toBe(200);
    expect(fake.seen[0]?.url).toBe("/v1/chat/completions");
    const body = JSON.parse(fake.seen[0]?.body ?? "");
    expect(body.max_completion_tokens).toBe(77);
    expect(body).not.toHaveProperty("max_tokens");
  });

  it("sends no Authorization to a key-less local server and accepts Ollama's looser tool calls", async () => {
    harness.approval = {
      provider: "ollama",
      model: "llama3.1:8b",
      maxOutputTokens: 100,
      dailyTokens: 1_000_000,
    };
    // Self-made: the deviations local servers are known for (no id, arguments as an object, "stop"
    // with tool calls, no usage). No published recording of them was found.
    fake.reply(
      200,
      JSON.stringify({
        choices: [
          {
            message: {
              role: "assistant",
              content: "",
              tool_calls: [{ function: { name: "get_stock_price", arguments: { ticker: "AAPL" } } }],
            },
            finish_reason: "stop",
          },
        ],
      }),
    );
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "AAPL?" }],
      tools: TOOLS,
    });
    expect(fake.seen[0]?.headers).not.toHaveProperty("authorization");
    expect(answer.status).toBe(200);
    expect(answer.json.content).toEqual([
      { type: "tool_call", id: "call_0", name: "get_stock_price", input: { ticker: "AAPL" } },
    ]);
    expect(answer.json.stop).toBe("tool_calls");
    // No usage reported: the deterministic estimate is charged, never nothing.
    expect(answer.json.usage.inputTokens).toBeGreaterThan(0);
    expect(answer.json.usage.outputTokens).toBeGreaterThan(0);
  });

  it("refuses tool-call arguments that are not JSON", async () => {
    fake.reply(
      200,
      JSON.stringify({
        choices: [
          {
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "call_1", type: "function", function: { name: "f", arguments: "{not json" } },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      }),
    );
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "x" }],
      tools: [],
    });
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
  });

  it("maps an OpenAI error body (429) to IC_MODEL_PROVIDER_RATE_LIMITED", async () => {
    fake.reply(
      429,
      JSON.stringify({
        error: {
          message: "Rate limit reached for requests",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      }),
    );
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "x" }],
      tools: [],
    });
    expect(answer.status).toBe(503);
    expect(answer.json.error).toEqual({
      code: "IC_MODEL_PROVIDER_RATE_LIMITED",
      message: expect.stringContaining("answered 429: Rate limit reached for requests"),
    });
  });
});
