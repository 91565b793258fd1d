import { createServer, type Server } from "node:net";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropicProvider, type HttpLimits, openAiProvider } from "../src/index.js";
import {
  callProxy,
  FakeProvider,
  fixture,
  type ProxyAnswer,
  type ProxyHarness,
  providersOf,
  startHarness,
} from "./helpers.js";

// A provider that misbehaves in every way the proxy must survive. The key is planted in each of them and
// looked for in everything the agent and the audit log receive.
const KEY = "sk-ant-PLANTED-hostile-9d1f4b7c3e5a";
const LIMITS: HttpLimits = {
  connectTimeoutMs: 1_000,
  idleTimeoutMs: 300,
  deadlineMs: 1_500,
  responseHeaderBytes: 16 * 1024,
  responseBodyBytes: 64 * 1024,
};
const REQUEST = { system: "", messages: [{ role: "user", content: "hi" }], tools: [] };

let fake: FakeProvider;
let harness: ProxyHarness;
const answers: ProxyAnswer[] = [];

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
      openAiProvider({
        name: "openai",
        baseUrl: new URL(`${fake.origin}/v1`),
        apiKey: KEY,
        models: null,
        limits: LIMITS,
      }),
    ),
    approval: { provider: "anthropic", model: "claude-x", maxOutputTokens: 100, dailyTokens: 1_000_000 },
  });
});
afterAll(async () => {
  await harness.close();
  await fake.close();
});
beforeEach(() => {
  fake.seen.length = 0;
  harness.approval = {
    provider: "anthropic",
    model: "claude-x",
    maxOutputTokens: 100,
    dailyTokens: 1_000_000,
  };
});

async function call(): Promise<ProxyAnswer> {
  const answer = await callProxy(harness.proxy.socketPath, REQUEST);
  answers.push(answer);
  return answer;
}

describe("a hostile provider", () => {
  it("that cuts the body short is refused as an incomplete response", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      response.write('{"type":"message","content":[');
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const answer = await call();
    expect(answer.status).toBe(502);
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(answer.json.error.message).toContain("before the response was complete");
  });

  it("that stalls after its headers is cut at the idle timeout", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.flushHeaders();
    };
    const started = performance.now();
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TIMEOUT");
    expect(answer.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(1_400);
  });

  it("that trickles forever is cut at the total deadline", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => response.write(" "), 50);
      response.on("close", () => clearInterval(timer));
    };
    const started = performance.now();
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TIMEOUT");
    expect(answer.json.error.message).toContain("1500 ms");
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("that sends an endless body is cut once it passes the cap", async () => {
    let sent = 0;
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!response.destroyed && response.write(chunk)) sent += chunk.length;
        if (!response.destroyed) response.once("drain", pump);
      };
      response.on("error", () => {});
      pump();
    };
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TOO_LARGE");
    // Cut near the cap, not after megabytes (socket buffers allow some slack).
    expect(sent).toBeLessThan(8 * 1024 * 1024);
  });

  it("that declares a body over the cap is refused before reading it", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(10 * 1024 * 1024),
      });
      response.write("{");
    };
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_TOO_LARGE");
  });

  it("that sends huge headers is refused", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "x-padding": "a".repeat(32 * 1024) });
      response.end("{}");
    };
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
    expect(answer.json.error.message).toContain("headers");
  });

  it("that redirects elsewhere is not followed", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(307, { location: "https://attacker.example/v1/messages" });
      response.end();
    };
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_REDIRECT");
    expect(fake.seen).toHaveLength(1);
  });

  it("that echoes the key in a 500 has it removed from the error", async () => {
    fake.reply(
      500,
      JSON.stringify({ type: "error", error: { type: "api_error", message: `key ${KEY} rejected; ${KEY}` } }),
    );
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_ERROR");
    expect(answer.json.error.message).toContain("key [redacted] rejected; [redacted]");
    expect(answer.text).not.toContain(KEY);
  });

  it("that echoes the key in a completion has it removed from the content", async () => {
    const body = JSON.parse(await fixture("anthropic-sdk-python/tool-use-with-text.json"));
    body.content[0].text = `your key is ${KEY}`;
    body.content[1].input = { note: KEY };
    fake.reply(200, JSON.stringify(body));
    const answer = await call();
    expect(answer.status).toBe(200);
    expect(answer.json.content[0].text).toBe("your key is [redacted]");
    expect(answer.json.content[1].input).toEqual({ note: "[redacted]" });
  });

  it("that echoes the key through the OpenAI path has it removed too", async () => {
    harness.approval = { provider: "openai", model: "gpt-x", maxOutputTokens: 100, dailyTokens: 1_000_000 };
    fake.reply(
      401,
      JSON.stringify({
        error: { message: `Incorrect API key provided: ${KEY}.`, type: "invalid_request_error" },
      }),
    );
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_AUTH");
    expect(answer.json.error.message).toContain("Incorrect API key provided: [redacted]");
  });

  it("that answers 200 with something other than JSON is refused", async () => {
    fake.handle = (_request, response) => {
      response.writeHead(200, { "content-type": "text/html" });
      response.end("<html>captive portal</html>");
    };
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
  });

  it("that answers with a tool-call id or name the agent could not send back is refused", async () => {
    const body = JSON.parse(await fixture("anthropic-sdk-python/tool-use-with-text.json"));
    body.content[1].name = "get weather; rm -rf /";
    fake.reply(200, JSON.stringify(body));
    const answer = await call();
    expect(answer.json.error.code).toBe("IC_MODEL_PROVIDER_RESPONSE");
  });

  it("that is not there at all is unreachable", async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const provider = anthropicProvider({
      name: "gone",
      baseUrl: new URL(`http://127.0.0.1:${port}`),
      apiKey: KEY,
      models: null,
      limits: LIMITS,
    });
    const error = await provider
      .complete({
        model: "m",
        system: "",
        messages: [{ role: "user", content: "x" }],
        tools: [],
        maxOutputTokens: 1,
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_MODEL_PROVIDER_UNREACHABLE" });
  });

  it("that accepts the connection but never completes TLS is cut at the connect timeout", async () => {
    const held = new Set<import("node:net").Socket>();
    const silent: Server = createServer((socket) => {
      held.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    const provider = anthropicProvider({
      name: "silent",
      baseUrl: new URL(`https://127.0.0.1:${port}`),
      apiKey: KEY,
      models: null,
      limits: { ...LIMITS, connectTimeoutMs: 200, idleTimeoutMs: 5_000 },
    });
    const started = performance.now();
    const error = await provider
      .complete({
        model: "m",
        system: "",
        messages: [{ role: "user", content: "x" }],
        tools: [],
        maxOutputTokens: 1,
      })
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    // The silent server never reads, so it would never see the client go: it lets go itself.
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    expect(error).toMatchObject({
      code: "IC_MODEL_PROVIDER_TIMEOUT",
      message: expect.stringContaining("connect within 200 ms"),
    });
    expect(elapsed).toBeLessThan(1_000);
  });

  it("on localhost over plain http is reached only at a loopback address", async () => {
    fake.reply(200, await fixture("anthropic-sdk-python/end-turn.json"));
    const provider = anthropicProvider({
      name: "local",
      baseUrl: new URL(fake.origin.replace("127.0.0.1", "localhost")),
      apiKey: KEY,
      models: null,
      limits: LIMITS,
    });
    const reply = await provider.complete({
      model: "m",
      system: "",
      messages: [{ role: "user", content: "x" }],
      tools: [],
      maxOutputTokens: 1,
    });
    expect(reply.stop).toBe("end");
  });

  it("never has the key in any answer or audit event", () => {
    expect(answers.length).toBeGreaterThanOrEqual(10);
    for (const answer of answers) expect(answer.text).not.toContain(KEY);
    expect(harness.events.length).toBeGreaterThanOrEqual(answers.length);
    expect(JSON.stringify(harness.events)).not.toContain(KEY);
    // Nor a tell-tale part of it.
    expect(JSON.stringify([answers, harness.events])).not.toContain("PLANTED-hostile");
  });
});
