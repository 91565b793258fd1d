import { stat } from "node:fs/promises";
import { connect } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type Completion,
  createMemoryLedger,
  type ModelProvider,
  mockProvider,
  type ProviderCall,
} from "../src/index.js";
import { callProxy, type ProxyHarness, providersOf, simpleRequest, startHarness } from "./helpers.js";

/** A provider that records each call and answers after `delayMs`, counting calls under way at once. */
function recordingProvider(name: string, models: readonly string[] | null, delayMs = 0) {
  const state = { calls: [] as ProviderCall[], active: 0, maxActive: 0 };
  const provider: ModelProvider = {
    name,
    type: "mock",
    models,
    complete: async (call): Promise<Completion> => {
      state.calls.push(call);
      state.active += 1;
      state.maxActive = Math.max(state.maxActive, state.active);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      state.active -= 1;
      return {
        content: [{ type: "text", text: "ok" }],
        stop: "end",
        usage: { inputTokens: 10, outputTokens: 5 },
      };
    },
  };
  return { provider, state };
}

const MOCK_APPROVAL = { provider: "mock", model: "mock-1", maxOutputTokens: 1000, dailyTokens: 1_000_000 };
let harness: ProxyHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("the model proxy's socket", () => {
  it("is mode 0600 while it runs and gone after close", async () => {
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: MOCK_APPROVAL,
    });
    const info = await stat(harness.proxy.socketPath);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
    const path = harness.proxy.socketPath;
    await harness.close();
    harness = undefined;
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("is not started for a malformed agent name or limit", async () => {
    const providers = providersOf(mockProvider({ name: "mock" }));
    await expect(startHarness({ providers, agent: "Bad Agent" })).rejects.toMatchObject({
      code: "IC_MODEL_OPTIONS_INVALID",
    });
    await expect(startHarness({ providers, limits: { queue: 0 } })).rejects.toMatchObject({
      code: "IC_MODEL_OPTIONS_INVALID",
    });
  });

  it("answers only POST /v1/complete with a bounded JSON body", async () => {
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: MOCK_APPROVAL,
    });
    const socket = harness.proxy.socketPath;
    expect((await callProxy(socket, simpleRequest(), { path: "/v1/other" })).json.error.code).toBe(
      "IC_MODEL_NOT_FOUND",
    );
    expect((await callProxy(socket, undefined, { method: "PUT", raw: "{}" })).json.error.code).toBe(
      "IC_MODEL_METHOD_NOT_ALLOWED",
    );
    expect((await callProxy(socket, simpleRequest(), { contentType: "text/plain" })).status).toBe(415);
    expect((await callProxy(socket, undefined, { raw: "{not json" })).json.error.code).toBe(
      "IC_MODEL_BAD_REQUEST",
    );
    const huge = await callProxy(socket, simpleRequest("x".repeat(1024 * 1024)));
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe("IC_MODEL_REQUEST_TOO_LARGE");
    expect(harness.events.map((e) => e.code)).toEqual([
      "IC_MODEL_NOT_FOUND",
      "IC_MODEL_METHOD_NOT_ALLOWED",
      "IC_MODEL_UNSUPPORTED_MEDIA_TYPE",
      "IC_MODEL_BAD_REQUEST",
      "IC_MODEL_REQUEST_TOO_LARGE",
    ]);
  });
});

describe("the approval, read at each call", () => {
  it("refuses an agent with no approved model", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({ providers: providersOf(provider) });
    const answer = await callProxy(harness.proxy.socketPath, simpleRequest());
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe("IC_MODEL_NOT_APPROVED");
    expect(state.calls).toHaveLength(0);
    expect(harness.events).toEqual([
      {
        type: "model.call",
        agent: "demo",
        provider: "",
        model: "",
        inputTokens: 0,
        outputTokens: 0,
        durationMs: expect.any(Number),
        status: 403,
        code: "IC_MODEL_NOT_APPROVED",
      },
    ]);
  });

  it("refuses a provider the host does not configure, Object.prototype names included", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({ providers: providersOf(provider) });
    for (const name of ["openai", "constructor", "hasownproperty"]) {
      harness.approval = { ...MOCK_APPROVAL, provider: name };
      const answer = await callProxy(harness.proxy.socketPath, simpleRequest());
      expect(answer.json.error.code, name).toBe("IC_MODEL_PROVIDER_UNKNOWN");
    }
    // Not even a well-formed name: treated as no approval at all.
    harness.approval = { ...MOCK_APPROVAL, provider: "__proto__" };
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).json.error.code).toBe(
      "IC_MODEL_NOT_APPROVED",
    );
    expect(state.calls).toHaveLength(0);
  });

  it("refuses a model the provider does not allow", async () => {
    const { provider, state } = recordingProvider("anthropic", ["claude-a"]);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: { ...MOCK_APPROVAL, provider: "anthropic", model: "claude-b" },
    });
    const answer = await callProxy(harness.proxy.socketPath, simpleRequest());
    expect(answer.json.error.code).toBe("IC_MODEL_MODEL_NOT_ALLOWED");
    expect(answer.json.error.message).toContain("claude-a");
    harness.approval = { ...MOCK_APPROVAL, provider: "anthropic", model: "claude-a" };
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).status).toBe(200);
    expect(state.calls.map((c) => c.model)).toEqual(["claude-a"]);
  });

  it("refuses a request that names a provider or a model itself", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({ providers: providersOf(provider), approval: MOCK_APPROVAL });
    for (const field of ["provider", "model"]) {
      const answer = await callProxy(harness.proxy.socketPath, { ...simpleRequest(), [field]: "gpt-4o" });
      expect(answer.status).toBe(400);
      expect(answer.json.error.message).toContain(field);
    }
    expect(state.calls).toHaveLength(0);
  });

  it("follows a change of approval at the next call, and a revocation", async () => {
    const a = recordingProvider("a", null);
    const b = recordingProvider("b", null);
    harness = await startHarness({
      providers: providersOf(a.provider, b.provider),
      approval: { ...MOCK_APPROVAL, provider: "a", model: "m1" },
    });
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).json).toMatchObject({
      provider: "a",
      model: "m1",
    });
    harness.approval = { ...MOCK_APPROVAL, provider: "b", model: "m2" };
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).json).toMatchObject({
      provider: "b",
      model: "m2",
    });
    harness.approval = undefined;
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).json.error.code).toBe(
      "IC_MODEL_NOT_APPROVED",
    );
    // The registry's AgentRecord.model is null for an agent without one.
    harness.approval = null;
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).json.error.code).toBe(
      "IC_MODEL_NOT_APPROVED",
    );
    expect([a.state.calls.length, b.state.calls.length]).toEqual([1, 1]);
  });

  it("clamps the output cap to the approval", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: { ...MOCK_APPROVAL, maxOutputTokens: 50 },
    });
    await callProxy(harness.proxy.socketPath, { ...simpleRequest(), maxOutputTokens: 5000 });
    await callProxy(harness.proxy.socketPath, { ...simpleRequest(), maxOutputTokens: 10 });
    await callProxy(harness.proxy.socketPath, simpleRequest());
    expect(state.calls.map((c) => c.maxOutputTokens)).toEqual([50, 10, 50]);
  });

  it("passes Object.prototype names in tool input through as plain keys", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({ providers: providersOf(provider), approval: MOCK_APPROVAL });
    const input = '{"__proto__":{"polluted":true},"constructor":{"prototype":1},"toString":"x"}';
    const raw = `{"system":"","tools":[],"messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_call","id":"c1","name":"t","input":${input}}]},{"role":"tool","results":[{"toolCallId":"c1","output":"done","isError":false}]}]}`;
    const answer = await callProxy(harness.proxy.socketPath, undefined, { raw });
    expect(answer.status).toBe(200);
    const block = state.calls[0]?.messages[1];
    const seen = block?.role === "assistant" ? block.content[0] : undefined;
    expect(seen?.type === "tool_call" ? JSON.stringify(seen.input) : "").toBe(input);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("the daily budget", () => {
  it("holds across calls: refused once used, never exceeded with the mock", async () => {
    const ledger = createMemoryLedger();
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: { ...MOCK_APPROVAL, maxOutputTokens: 1000, dailyTokens: 400 },
      ledger,
      now: () => new Date("2026-12-04T23:59:00Z"),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const answer = await callProxy(
        harness.proxy.socketPath,
        simpleRequest(`message number ${i}: ${"lorem ipsum ".repeat(10)}`),
      );
      statuses.push(answer.status);
      if (answer.status === 429) expect(answer.json.error.code).toBe("IC_MODEL_BUDGET_EXHAUSTED");
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.at(-1)).toBe(429);
    const used = ledger.used("demo", "2026-12-04");
    expect(used).toBeLessThanOrEqual(400);
    const audited = harness.events.reduce((sum, e) => sum + e.inputTokens + e.outputTokens, 0);
    expect(audited).toBe(used);
  });

  it("caps the last call's output at what remains, so the mock stops at max_tokens inside the budget", async () => {
    const ledger = createMemoryLedger();
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: { ...MOCK_APPROVAL, dailyTokens: 100 },
      ledger,
      now: () => new Date("2026-12-04T12:00:00Z"),
    });
    ledger.add("demo", "2026-12-04", 60);
    const answer = await callProxy(harness.proxy.socketPath, simpleRequest("y".repeat(48)));
    expect(answer.status).toBe(200);
    expect(answer.json.stop).toBe("max_tokens");
    expect(ledger.used("demo", "2026-12-04")).toBeLessThanOrEqual(100);
  });

  it("starts again on the next UTC day", async () => {
    const ledger = createMemoryLedger();
    let now = new Date("2026-12-04T23:59:59Z");
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: { ...MOCK_APPROVAL, dailyTokens: 50 },
      ledger,
      now: () => now,
    });
    ledger.add("demo", "2026-12-04", 50);
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).status).toBe(429);
    now = new Date("2026-12-05T00:00:00Z");
    expect((await callProxy(harness.proxy.socketPath, simpleRequest())).status).toBe(200);
  });

  it("holds when calls arrive at once", async () => {
    const ledger = createMemoryLedger();
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: { ...MOCK_APPROVAL, dailyTokens: 120 },
      ledger,
      limits: { queue: 16 },
      now: () => new Date("2026-12-04T12:00:00Z"),
    });
    const socket = harness.proxy.socketPath;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => callProxy(socket, simpleRequest(`hello ${i}`))),
    );
    expect(answers.some((a) => a.status === 429)).toBe(true);
    expect(ledger.used("demo", "2026-12-04")).toBeLessThanOrEqual(120);
  });
});

describe("serialization", () => {
  it("runs one call at a time per agent", async () => {
    const { provider, state } = recordingProvider("mock", null, 30);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: MOCK_APPROVAL,
      limits: { queue: 8 },
    });
    const socket = harness.proxy.socketPath;
    const answers = await Promise.all(Array.from({ length: 5 }, () => callProxy(socket, simpleRequest())));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(state.calls).toHaveLength(5);
    expect(state.maxActive).toBe(1);
  });

  it("refuses calls beyond the queue instead of piling them up", async () => {
    const { provider, state } = recordingProvider("mock", null, 400);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: MOCK_APPROVAL,
      limits: { queue: 1 },
    });
    const socket = harness.proxy.socketPath;
    const answers = await Promise.all(Array.from({ length: 5 }, () => callProxy(socket, simpleRequest())));
    const busy = answers.filter((a) => a.json.error?.code === "IC_MODEL_BUSY");
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    expect(busy).toHaveLength(3);
    expect(state.maxActive).toBe(1);
  });
});

describe("a misbehaving agent", () => {
  it("that sends its body too slowly is cut at the request timeout", async () => {
    const { provider, state } = recordingProvider("mock", null);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: MOCK_APPROVAL,
      limits: { requestTimeoutMs: 200 },
    });
    const socket = connect(harness.proxy.socketPath);
    socket.write(
      "POST /v1/complete HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
    );
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("end", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1.1 408/);
    expect(answer).toContain("IC_MODEL_REQUEST_TIMEOUT");
    expect(state.calls).toHaveLength(0);
    socket.destroy();
  });

  it("that declares a body over the cap is answered 413 and cut off, not drained", async () => {
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: MOCK_APPROVAL,
    });
    const socket = connect(harness.proxy.socketPath);
    socket.on("error", () => {});
    socket.write(
      `POST /v1/complete HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${64 * 1024 * 1024}\r\n\r\n{"system":`,
    );
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).toContain("IC_MODEL_REQUEST_TOO_LARGE");
  });

  it("that hangs up mid-call still pays for it: the call ends and is counted and audited", async () => {
    const { provider, state } = recordingProvider("mock", null, 300);
    harness = await startHarness({
      providers: providersOf(provider),
      approval: MOCK_APPROVAL,
      now: () => new Date("2026-12-04T12:00:00Z"),
    });
    const body = JSON.stringify(simpleRequest());
    const socket = connect(harness.proxy.socketPath);
    socket.write(
      `POST /v1/complete HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    // Hang up once the call is under way, then wait for it to end (polling: the machine may be busy).
    await vi.waitFor(() => expect(state.calls).toHaveLength(1), { timeout: 5_000 });
    socket.destroy();
    await vi.waitFor(() => expect(harness?.events).toHaveLength(1), { timeout: 5_000 });
    expect(state.calls).toHaveLength(1);
    expect(harness.ledger.used("demo", "2026-12-04")).toBe(15);
    expect(harness.events).toEqual([
      expect.objectContaining({ status: 200, inputTokens: 10, outputTokens: 5 }),
    ]);
  });

  it("that floods calls gets four waiting behind the one under way, by default", async () => {
    const { provider, state } = recordingProvider("mock", null, 400);
    harness = await startHarness({ providers: providersOf(provider), approval: MOCK_APPROVAL });
    const socket = harness.proxy.socketPath;
    const answers = await Promise.all(Array.from({ length: 7 }, () => callProxy(socket, simpleRequest())));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    expect(answers.filter((a) => a.json.error?.code === "IC_MODEL_BUSY")).toHaveLength(2);
    expect(state.maxActive).toBe(1);
  });
});

describe("closing", () => {
  it("lets the call under way finish and starts none of those waiting", async () => {
    const { provider, state } = recordingProvider("mock", null, 300);
    harness = await startHarness({ providers: providersOf(provider), approval: MOCK_APPROVAL });
    const socket = harness.proxy.socketPath;
    const answers = Promise.all(Array.from({ length: 3 }, () => callProxy(socket, simpleRequest())));
    await vi.waitFor(() => expect(state.calls).toHaveLength(1), { timeout: 5_000 });
    const closed = harness.proxy.close();
    const [first, ...rest] = await answers;
    await closed;
    expect(first?.status).toBe(200);
    expect(rest.map((a) => a.json.error.code)).toEqual(["IC_MODEL_UNAVAILABLE", "IC_MODEL_UNAVAILABLE"]);
    expect(state.calls).toHaveLength(1);
  });
});

describe("the audit", () => {
  it("records every call without content", async () => {
    harness = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: MOCK_APPROVAL,
    });
    const secretText = "the launch code is 0000";
    await callProxy(harness.proxy.socketPath, simpleRequest(secretText));
    expect(harness.events).toHaveLength(1);
    expect(Object.keys(harness.events[0] ?? {}).sort()).toEqual(
      ["agent", "durationMs", "inputTokens", "model", "outputTokens", "provider", "status", "type"].sort(),
    );
    expect(JSON.stringify(harness.events)).not.toContain("launch code");
  });

  it("fails closed when the audit cannot be written: that call and every later one is refused", async () => {
    const { provider, state } = recordingProvider("mock", null);
    let fail = true;
    harness = await startHarness({
      providers: providersOf(provider),
      approval: MOCK_APPROVAL,
      audit: () => {
        if (fail) throw new Error("disk full");
      },
    });
    const first = await callProxy(harness.proxy.socketPath, simpleRequest());
    expect(first.status).toBe(503);
    expect(first.json.error.code).toBe("IC_MODEL_UNAVAILABLE");
    expect(first.json.content).toBeUndefined();
    fail = false;
    const second = await callProxy(harness.proxy.socketPath, simpleRequest());
    expect(second.json.error.code).toBe("IC_MODEL_UNAVAILABLE");
    expect(state.calls).toHaveLength(1);
  });
});
