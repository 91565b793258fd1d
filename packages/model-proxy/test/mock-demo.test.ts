import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModelProviders } from "../src/index.js";
import { callProxy, type ProxyHarness, startHarness } from "./helpers.js";

/**
 * The README demo's model side, through the socket, with the mock of a host that has no providers
 * file: the tools the agent loop offers, the two held requests, the fetch once approved, the reply.
 */
const tools = (names: string[]) =>
  names.map((name) => ({ name, description: `the ${name} tool`, inputSchema: { type: "object" } }));
let state: string;
let harness: ProxyHarness;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), "ironclaw-model-demo-"));
  harness = await startHarness({
    providers: await loadModelProviders({ stateDir: state, env: {} }),
    approval: { provider: "mock", model: "mock-1", maxOutputTokens: 1024, dailyTokens: 100_000 },
  });
});
afterAll(async () => {
  await harness.close();
  await rm(state, { recursive: true, force: true });
});

describe("the demo with the built-in mock", () => {
  const ask = { role: "user", content: "fetch https://example.com/" };

  it("asks for http_fetch and egress when it has neither", async () => {
    const answer = await callProxy(harness.proxy.socketPath, {
      system: "You are demo.",
      messages: [ask],
      tools: tools(["request_change", "send_message"]),
    });
    expect(answer.status).toBe(200);
    expect(answer.json.stop).toBe("tool_calls");
    expect(
      answer.json.content
        .filter((b: { type: string }) => b.type === "tool_call")
        .map((b: { input: unknown }) => b.input),
    ).toEqual([
      { kind: "enabled_tools", payload: { tools: ["http_fetch"] } },
      { kind: "egress", payload: { action: "allow", host: "example.com", port: 443 } },
    ]);
    expect(answer.json).toMatchObject({ provider: "mock", model: "mock-1" });
  });

  it("fetches once http_fetch is offered, and replies with the page's start", async () => {
    const offered = tools(["http_fetch", "request_change", "send_message"]);
    const first = await callProxy(harness.proxy.socketPath, { system: "", messages: [ask], tools: offered });
    const fetch = first.json.content[0];
    expect(fetch).toMatchObject({
      type: "tool_call",
      name: "http_fetch",
      input: { url: "https://example.com/" },
    });
    const second = await callProxy(harness.proxy.socketPath, {
      system: "",
      messages: [
        ask,
        { role: "assistant", content: first.json.content },
        {
          role: "tool",
          results: [{ toolCallId: fetch.id, output: "<h1>Example Domain</h1>", isError: false }],
        },
      ],
      tools: offered,
    });
    expect(second.json).toMatchObject({
      stop: "end",
      content: [{ type: "text", text: "The tool said: <h1>Example Domain</h1>" }],
    });
    expect(harness.events.every((e) => e.status === 200 && e.provider === "mock")).toBe(true);
  });
});
