import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropicProvider, DEFAULT_HTTP_LIMITS } from "../src/index.js";
import {
  callProxy,
  FakeProvider,
  fixture,
  type ProxyHarness,
  providersOf,
  startHarness,
  WEATHER_TOOL,
} from "./helpers.js";

// The fake answers with response bodies Anthropic's live API produced, recorded in the official Python
// SDK's tests (fixtures/NOTICE). Request shapes checked against the Messages API reference: POST
// /v1/messages, x-api-key, anthropic-version 2023-06-01, system, tool_use / tool_result, input_schema.
const KEY = "sk-ant-api03-PLANTED-anthropic-4f9c2e7a1b";
const MODEL = "claude-haiku-4-5";

let fake: FakeProvider;
let harness: ProxyHarness;

beforeAll(async () => {
  fake = await FakeProvider.start();
  const provider = anthropicProvider({
    name: "anthropic",
    baseUrl: new URL(fake.origin),
    apiKey: KEY,
    models: [MODEL],
    limits: { ...DEFAULT_HTTP_LIMITS, deadlineMs: 5_000 },
  });
  harness = await startHarness({
    providers: providersOf(provider),
    approval: { provider: "anthropic", model: MODEL, maxOutputTokens: 1024, dailyTokens: 1_000_000 },
  });
});
afterAll(async () => {
  await harness.close();
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  harness.events.length = 0;
});

describe("the Anthropic Messages API", () => {
  it("sends exactly the documented request and translates a recorded tool_use response back", async () => {
    fake.reply(200, await fixture("anthropic-sdk-python/tool-use-with-text.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "You are terse.",
      messages: [{ role: "user", content: "What's the weather in SF in Celsius?" }],
      tools: [WEATHER_TOOL],
      maxOutputTokens: 500,
    });
    expect(fake.seen).toHaveLength(1);
    const seen = fake.seen[0];
    expect(seen?.method).toBe("POST");
    expect(seen?.url).toBe("/v1/messages");
    expect(seen?.headers).toEqual({
      host: fake.origin.replace("http://", ""),
      connection: "close",
      "content-type": "application/json",
      accept: "application/json",
      "x-api-key": KEY,
      "anthropic-version": "2023-06-01",
      "content-length": String(Buffer.byteLength(seen?.body ?? "")),
    });
    expect(seen?.body).toBe(
      JSON.stringify({
        model: MODEL,
        max_tokens: 500,
        system: "You are terse.",
        messages: [{ role: "user", content: "What's the weather in SF in Celsius?" }],
        tools: [
          {
            name: WEATHER_TOOL.name,
            description: WEATHER_TOOL.description,
            input_schema: WEATHER_TOOL.inputSchema,
          },
        ],
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      content: [
        { type: "text", text: "Let me check the weather for San Francisco for you in Celsius." },
        {
          type: "tool_call",
          id: "toolu_01MxFFv4azdWzubHT3dXurMY",
          name: "get_weather",
          input: { location: "San Francisco, CA", units: "c" },
        },
      ],
      stop: "tool_calls",
      usage: { inputTokens: 659, outputTokens: 88 },
      provider: "anthropic",
      model: MODEL,
    });
    expect(harness.events).toEqual([
      expect.objectContaining({
        provider: "anthropic",
        model: MODEL,
        inputTokens: 659,
        outputTokens: 88,
        status: 200,
      }),
    ]);
  });

  it("sends the tool call back as tool_use and its result as tool_result in a user turn", async () => {
    fake.reply(200, await fixture("anthropic-sdk-python/end-turn.json"));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [
        { role: "user", content: "What's the weather in SF in Celsius?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            {
              type: "tool_call",
              id: "toolu_01MxFFv4azdWzubHT3dXurMY",
              name: "get_weather",
              input: { location: "SF", units: "c" },
            },
          ],
        },
        {
          role: "tool",
          results: [{ toolCallId: "toolu_01MxFFv4azdWzubHT3dXurMY", output: "20°C, sunny", isError: false }],
        },
        { role: "user", content: "And tomorrow?" },
      ],
      tools: [WEATHER_TOOL],
    });
    // No system key when the system prompt is empty; the approval's cap when the agent names none.
    expect(JSON.parse(fake.seen[0]?.body ?? "")).toEqual({
      model: MODEL,
      max_tokens: 1024,
      messages: [
        { role: "user", content: "What's the weather in SF in Celsius?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me check." },
            {
              type: "tool_use",
              id: "toolu_01MxFFv4azdWzubHT3dXurMY",
              name: "get_weather",
              input: { location: "SF", units: "c" },
            },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_01MxFFv4azdWzubHT3dXurMY",
              content: "20°C, sunny",
              is_error: false,
            },
            { type: "text", text: "And tomorrow?" },
          ],
        },
      ],
      tools: [
        {
          name: WEATHER_TOOL.name,
          description: WEATHER_TOOL.description,
          input_schema: WEATHER_TOOL.inputSchema,
        },
      ],
    });
    expect(answer.json).toEqual({
      content: [
        {
          type: "text",
          text: "The weather in San Francisco, CA is currently **20°C** and **Sunny**. Nice weather!",
        },
      ],
      stop: "end",
      usage: { inputTokens: 787, outputTokens: 26 },
      provider: "anthropic",
      model: MODEL,
    });
  });

  it("carries __proto__ and constructor in tool input to the wire as plain keys", async () => {
    fake.reply(200, await fixture("anthropic-sdk-python/end-turn.json"));
    const input = '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{}}}';
    const raw = `{"system":"","tools":[],"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_call","id":"toolu_1","name":"t","input":${input}}]},{"role":"tool","results":[{"toolCallId":"toolu_1","output":"ok","isError":false}]}]}`;
    const answer = await callProxy(harness.proxy.socketPath, undefined, { raw });
    expect(answer.status).toBe(200);
    expect(fake.seen[0]?.body).toContain(`"type":"tool_use","id":"toolu_1","name":"t","input":${input}`);
  });

  it("maps an Anthropic error body to a provider code with the provider's message", async () => {
    fake.reply(
      401,
      JSON.stringify({
        type: "error",
        error: { type: "authentication_error", message: "invalid x-api-key" },
      }),
    );
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "hi" }],
      tools: [],
    });
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_AUTH");
    expect(answer.json.error.message).toContain("answered 401: invalid x-api-key");
    expect(harness.events).toEqual([
      expect.objectContaining({
        status: 502,
        code: "IC_MODEL_PROVIDER_AUTH",
        inputTokens: 0,
        outputTokens: 0,
      }),
    ]);
  });

  it("refuses a response block type it does not know instead of dropping it", async () => {
    const body = JSON.parse(await fixture("anthropic-sdk-python/end-turn.json"));
    body.content.push({ type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: {} });
    fake.reply(200, JSON.stringify(body));
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [{ role: "user", content: "hi" }],
      tools: [],
    });
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(answer.json.error.message).toContain("server_tool_use");
  });
});
