import { connect, createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropicProvider, type HttpLimits, mockProvider } from "../src/index.js";
import { utcDay } from "../src/ledger.js";
import { type CompleteRequest, estimateInputTokens } from "../src/neutral.js";
import { callProxy, FakeProvider, type ProxyHarness, providersOf, startHarness } from "./helpers.js";

// An outside attack on the proxy: a hostile model behind a real-shaped provider, and a compromised
// agent speaking raw HTTP to its model socket. Self-made samples: the neutral format is our own.
const KEY = "sk-ant-PLANTED-attack-5e2b9c0d7a1f";
const LIMITS: HttpLimits = {
  connectTimeoutMs: 1_000,
  idleTimeoutMs: 300,
  deadlineMs: 1_500,
  responseHeaderBytes: 16 * 1024,
  responseBodyBytes: 8 * 1024 * 1024,
};
const REQUEST: CompleteRequest = { system: "", messages: [{ role: "user", content: "hi" }], tools: [] };
const APPROVAL = { provider: "anthropic", model: "claude-x", maxOutputTokens: 100, dailyTokens: 1_000_000 };

let fake: FakeProvider;
let harness: ProxyHarness;
const day = () => utcDay(new Date());

const anthropicReply = (content: unknown[], usage = { input_tokens: 50, output_tokens: 900 }) =>
  JSON.stringify({
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content,
    stop_reason: "tool_use",
    stop_sequence: null,
    usage,
  });

beforeAll(async () => {
  fake = await FakeProvider.start();
  harness = await startHarness({
    providers: providersOf(
      anthropicProvider({
        name: "anthropic",
        baseUrl: new URL(fake.origin),
        apiKey: KEY,
        models: null,
        limits: LIMITS,
      }),
      mockProvider({ name: "mock" }),
    ),
    approval: APPROVAL,
  });
});
afterAll(async () => {
  await harness.close();
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  harness.events.length = 0;
  harness.approval = { ...APPROVAL };
});

describe("a hostile model behind its provider", () => {
  it("that answers 10,000 tool calls is refused, and what the provider said it cost is charged", async () => {
    const calls = Array.from({ length: 10_000 }, (_, i) => ({
      type: "tool_use",
      id: `toolu_${i}`,
      name: "request_change",
      input: { kind: "egress", payload: {} },
    }));
    fake.reply(200, anthropicReply(calls));
    const before = harness.ledger.used("demo", day());
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(answer.json.error.message).toMatch(/at most 64 content blocks, found 10000/);
    expect(answer.text).not.toContain("request_change");
    expect(harness.ledger.used("demo", day()) - before).toBe(950);
    expect(harness.events.at(-1)).toMatchObject({ inputTokens: 50, outputTokens: 900, status: 502 });
  });

  it("that answers a tool input nested 200,000 deep is refused, and charged its usage", async () => {
    const deep = `${"[".repeat(200_000)}${"]".repeat(200_000)}`;
    fake.reply(
      200,
      anthropicReply([{ type: "tool_use", id: "toolu_1", name: "read_file", input: { x: "DEEP" } }], {
        input_tokens: 3,
        output_tokens: 4,
      }).replace('"DEEP"', deep),
    );
    const before = harness.ledger.used("demo", day());
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(answer.json.error.message).toMatch(/at most 32 levels/);
    expect(harness.ledger.used("demo", day()) - before).toBe(7);
  });

  it("that answers 64 blocks, as many as the agent may send back, is passed on", async () => {
    const calls = Array.from({ length: 64 }, (_, i) => ({
      type: "tool_use",
      id: `toolu_${i}`,
      name: "read_file",
      input: { path: "a" },
    }));
    fake.reply(200, anthropicReply(calls));
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(200);
    expect(answer.json.content).toHaveLength(64);
  });

  it("that answers a tool name the agent could not send back is still charged its usage", async () => {
    fake.reply(
      200,
      anthropicReply([{ type: "tool_use", id: "toolu_1", name: "read_file\u200b", input: {} }], {
        input_tokens: 7,
        output_tokens: 11,
      }),
    );
    const before = harness.ledger.used("demo", day());
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(harness.ledger.used("demo", day()) - before).toBe(18);
  });

  it("that writes too long to arrive in time cannot spend past the budget: each timeout costs its reservation", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.flushHeaders();
    };
    const reservation = estimateInputTokens(REQUEST) + APPROVAL.maxOutputTokens;
    const used = harness.ledger.used("demo", day());
    harness.approval = { ...APPROVAL, dailyTokens: used + 2 * reservation };
    const first = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(first.json.error.code).toBe("IC_MODEL_PROVIDER_TIMEOUT");
    expect(harness.ledger.used("demo", day()) - used).toBe(reservation);
    expect(harness.events.at(-1)).toMatchObject({
      inputTokens: estimateInputTokens(REQUEST),
      outputTokens: APPROVAL.maxOutputTokens,
    });
    await callProxy(harness.proxy.socketPath, REQUEST);
    const third = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(third.json.error.code).toBe("IC_MODEL_BUDGET_EXHAUSTED");
    // Two calls reached the provider; the third was refused before it.
    expect(fake.seen).toHaveLength(2);
  });

  it("whose provider cannot be reached in time is not charged: nothing was sent", async () => {
    // Accepts TCP and never completes TLS: the connect timeout fires before any byte of the request.
    const silent = createServer((socket) => socket.on("error", () => {}));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const unreachable = await startHarness({
      providers: providersOf(
        anthropicProvider({
          name: "anthropic",
          baseUrl: new URL(`https://127.0.0.1:${port}`),
          apiKey: KEY,
          models: null,
          limits: { ...LIMITS, connectTimeoutMs: 200 },
        }),
      ),
      approval: APPROVAL,
    });
    try {
      const answer = await callProxy(unreachable.proxy.socketPath, REQUEST);
      expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TIMEOUT");
      expect(answer.json.error.message).toMatch(/could not connect/);
      expect(unreachable.ledger.used("demo", day())).toBe(0);
      expect(unreachable.events.at(-1)).toMatchObject({ inputTokens: 0, outputTokens: 0, status: 504 });
    } finally {
      await unreachable.close();
      silent.close();
    }
  });

  it("whose provider answers an error is not charged: an error answer is not billed", async () => {
    fake.reply(500, JSON.stringify({ type: "error", error: { type: "api_error", message: "down" } }));
    const before = harness.ledger.used("demo", day());
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_ERROR");
    expect(harness.ledger.used("demo", day())).toBe(before);
    expect(harness.events.at(-1)).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  it("that echoes the key base64- or hex-encoded, at any alignment, has it removed", async () => {
    const b64 = (prefix: string) => Buffer.from(`${prefix}${KEY}!`).toString("base64");
    const texts = [
      `a ${b64("")} b`,
      `Basic ${b64("user:")}`,
      b64("xy").replace(/\+/g, "-").replace(/\//g, "_"),
      Buffer.from(KEY).toString("hex").toUpperCase(),
    ];
    fake.reply(
      200,
      anthropicReply(
        texts.map((text) => ({ type: "text", text })),
        { input_tokens: 1, output_tokens: 1 },
      ),
    );
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(200);
    for (const [i, block] of (answer.json.content as { text: string }[]).entries()) {
      expect(block.text, texts[i]).toContain("[redacted]");
      // What is left cannot be decoded back into the key.
      expect(
        Buffer.from(block.text.replace(/[^A-Za-z0-9+/]/g, ""), "base64").toString("latin1"),
      ).not.toContain("PLANTED");
    }
    expect(answer.text).not.toContain(Buffer.from(KEY).toString("hex").toUpperCase());
  });

  it("whose text merely looks like base64 keeps it", async () => {
    fake.reply(200, anthropicReply([{ type: "text", text: "aGVsbG8gd29ybGQ= sk-ant- 0123abcd" }]));
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.json.content[0].text).toBe("aGVsbG8gd29ybGQ= sk-ant- 0123abcd");
  });

  it("that echoes the key JSON-escaped has it removed all the same", async () => {
    const escaped = [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    fake.reply(
      200,
      anthropicReply([{ type: "text", text: "KEYHERE" }], { input_tokens: 1, output_tokens: 1 }).replace(
        "KEYHERE",
        escaped,
      ),
    );
    const answer = await callProxy(harness.proxy.socketPath, REQUEST);
    expect(answer.status).toBe(200);
    expect(answer.json.content[0].text).toBe("[redacted]");
    expect(answer.text).not.toContain("PLANTED-attack");
  });
});

/** Writes raw bytes to the model socket and returns everything it answers until it closes or goes quiet. */
function raw(socketPath: string, bytes: string, quietMs = 400): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const quiet = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      quiet();
    });
    socket.on("error", done);
    socket.on("close", done);
    socket.on("connect", () => {
      socket.write(bytes);
      quiet();
    });
  });
}

const post = (body: string, extra = "") =>
  `POST /v1/complete HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("a compromised agent speaking raw HTTP to its model socket", () => {
  beforeEach(() => {
    harness.approval = { provider: "mock", model: "mock-1", maxOutputTokens: 100, dailyTokens: 1_000_000 };
  });

  it("gets pipelined calls answered one by one, each audited as its own call", async () => {
    const body = JSON.stringify(REQUEST);
    const answer = await raw(harness.proxy.socketPath, post(body) + post(body) + post("{"));
    expect(answer.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    expect(answer.match(/HTTP\/1\.1 400 /g)).toHaveLength(1);
    expect(harness.events.map((e) => e.status)).toEqual([200, 200, 400]);
  });

  it("cannot smuggle a second request with Content-Length and chunked together", async () => {
    const smuggled = post(JSON.stringify({ ...REQUEST, provider: "anthropic" }));
    const answer = await raw(
      harness.proxy.socketPath,
      `POST /v1/complete HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).not.toMatch(/HTTP\/1\.1 200/);
    expect(harness.events).toEqual([]);
    expect(fake.seen).toEqual([]);
  });

  it("cannot name the provider or model in a chunked body either", async () => {
    const body = JSON.stringify({ ...REQUEST, provider: "anthropic", model: "claude-x" });
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const answer = await raw(
      harness.proxy.socketPath,
      `POST /v1/complete HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${chunked}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain("IC_MODEL_BAD_REQUEST");
    expect(fake.seen).toEqual([]);
  });

  it("is refused huge headers and two different Content-Lengths", async () => {
    const huge = await raw(harness.proxy.socketPath, post("{}", `x-pad: ${"a".repeat(32 * 1024)}\r\n`));
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    const twice = await raw(harness.proxy.socketPath, post("{}", "content-length: 9\r\n"));
    expect(twice).toMatch(/^HTTP\/1\.1 400/);
    expect(harness.events).toEqual([]);
  });

  it("cannot hold more than 32 connections open at once", async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 48 },
        () =>
          new Promise<{ closed: boolean }>((resolve) => {
            const socket = connect(harness.proxy.socketPath);
            const state = { closed: false, socket };
            socket.on("error", () => {});
            socket.on("close", () => {
              state.closed = true;
            });
            socket.on("connect", () => resolve(state));
          }),
      ),
    );
    await expect.poll(() => sockets.filter((s) => s.closed).length).toBeGreaterThanOrEqual(16);
    for (const s of sockets) (s as unknown as { socket: { destroy(): void } }).socket.destroy();
  });

  it("cannot grow the audit log at will with refused requests: past a few per window they are counted", async () => {
    const flood = await startHarness({
      providers: providersOf(mockProvider({ name: "mock" })),
      approval: { provider: "mock", model: "mock-1", maxOutputTokens: 100, dailyTokens: 1_000_000 },
      limits: { refusalsPerWindow: 8, refusalWindowMs: 500 },
    });
    try {
      for (let i = 0; i < 100; i += 1)
        await callProxy(flood.proxy.socketPath, REQUEST, {
          path: i % 2 === 0 ? "/nope" : "/v1/complete",
          raw: "{",
        });
      expect(flood.events).toHaveLength(8);
      // A call that is answered is always written, however many refusals came before it.
      expect((await callProxy(flood.proxy.socketPath, REQUEST)).status).toBe(200);
      expect(flood.events.at(-1)).toMatchObject({ status: 200 });
      // When the window ends, the rest are written as one record with their count.
      await expect.poll(() => flood.events.length, { timeout: 3_000 }).toBe(10);
      expect(flood.events.at(-1)).toMatchObject({
        type: "model.call",
        agent: "demo",
        status: 429,
        code: "IC_MODEL_REFUSALS_COUNTED",
        count: 92,
        inputTokens: 0,
        outputTokens: 0,
      });
      // And a new window writes refusals one by one again.
      await callProxy(flood.proxy.socketPath, REQUEST, { path: "/nope" });
      expect(flood.events.at(-1)).toMatchObject({ status: 404, code: "IC_MODEL_NOT_FOUND" });
    } finally {
      await flood.close();
    }
  });
});
