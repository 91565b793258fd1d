import { connect } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { egressSuite, expectRefused, get, onlyEvent, sendRaw, UPSTREAM_BODY } from "./helpers.js";

const suite = egressSuite();
const port = () => suite.upstream().port;
const local = () => ({ host: "127.0.0.1", port: port() });
const target = () => `https://127.0.0.1:${port()}/upload`;
const TOO_LARGE = { status: 413, code: "IC_EGRESS_BODY_TOO_LARGE", reason: "body_too_large" };

describe("the request body limit", () => {
  it("refuses a Content-Length over the limit before reading the body", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { requestBodyBytes: 1024 } });
    const host = `127.0.0.1:${port()}`;
    const got = sendRaw(
      broker.socketPath,
      `POST ${target()} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2000000\r\n\r\n`,
    );
    await expectRefused(broker, got, TOO_LARGE, suite.upstream());
  });

  it("refuses it before answering 100 Continue", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { requestBodyBytes: 1024 } });
    const host = `127.0.0.1:${port()}`;
    const got = sendRaw(
      broker.socketPath,
      `POST ${target()} HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n`,
    );
    await expectRefused(broker, got, TOO_LARGE, suite.upstream());
  });

  it("refuses a chunked body once it passes the limit, before the upstream hears of it", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { requestBodyBytes: 1024 } });
    const got = get(broker.socketPath, target(), {
      method: "POST",
      chunks: ["a".repeat(1000), "b".repeat(1000)],
    });
    await expectRefused(broker, got, TOO_LARGE, suite.upstream());
  });

  it("accepts a body of exactly the limit", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { requestBodyBytes: 1024 } });
    const got = await get(broker.socketPath, target(), {
      method: "POST",
      chunks: ["a".repeat(1000), "b".repeat(24)],
    });
    expect(got.status).toBe(200);
    expect(suite.upstream().seen[0]?.body.length).toBe(1024);
    expect(await onlyEvent(broker)).toMatchObject({ decision: "allowed", reason: "ok", bytesOut: 1024 });
  });
});

describe("the response body limit", () => {
  it("refuses a response whose Content-Length is over the limit", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { responseBodyBytes: 1000 } });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(200, { "Content-Length": "5000" });
      response.end("x".repeat(5000));
    };
    const got = get(broker.socketPath, target());
    const event = await expectRefused(broker, got, {
      status: 502,
      code: "IC_EGRESS_RESPONSE_TOO_LARGE",
      reason: "response_too_large",
    });
    expect(event.bytesIn).toBe(0);
    expect(suite.upstream().seen).toHaveLength(1);
  });

  it("cuts a streamed response at the limit", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { responseBodyBytes: 1000 } });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(200, { "Content-Type": "application/octet-stream" });
      response.write("x".repeat(600));
      const more = setInterval(() => {
        if (!response.write("y".repeat(600))) clearInterval(more);
      }, 10);
      response.on("close", () => clearInterval(more));
    };
    await expect(get(broker.socketPath, target())).rejects.toThrow();
    const event = await onlyEvent(broker);
    expect(event).toMatchObject({ decision: "denied", reason: "response_too_large", status: 200 });
    expect(event.bytesIn).toBeLessThanOrEqual(1000);
  });
});

describe("the time limit", () => {
  it("answers 504 when the upstream does not answer in time, and cuts it", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { timeoutMs: 300 } });
    let upstreamClosed = false;
    suite.upstream().handle = (request) => {
      request.socket.on("close", () => {
        upstreamClosed = true;
      });
    };
    const got = get(broker.socketPath, target());
    const event = await expectRefused(broker, got, {
      status: 504,
      code: "IC_EGRESS_TIMEOUT",
      reason: "timeout",
    });
    expect(event.durationMs).toBeGreaterThanOrEqual(290);
    expect(suite.upstream().seen).toHaveLength(1);
    await vi.waitFor(() => expect(upstreamClosed).toBe(true), { interval: 5 });
  });

  it("answers 504 when the agent's body dribbles in too slowly, without contacting the upstream", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { timeoutMs: 300 } });
    const host = `127.0.0.1:${port()}`;
    const got = sendRaw(
      broker.socketPath,
      `POST ${target()} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\nabc`,
    );
    await expectRefused(
      broker,
      got,
      { status: 504, code: "IC_EGRESS_TIMEOUT", reason: "timeout" },
      suite.upstream(),
    );
  });

  it("cuts a response still streaming when time runs out", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { timeoutMs: 300 } });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.write("partial");
    };
    await expect(get(broker.socketPath, target())).rejects.toThrow();
    expect(await onlyEvent(broker)).toMatchObject({
      decision: "denied",
      reason: "timeout",
      status: 200,
      bytesIn: 7,
    });
  });
});

describe("the concurrency limit", () => {
  it("answers 429 beyond the limit, without contacting the upstream, and frees the slot after", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { concurrent: 1 } });
    const held: (() => void)[] = [];
    suite.upstream().handle = (_request, response) => {
      held.push(() => response.end(UPSTREAM_BODY));
    };
    const first = get(broker.socketPath, target());
    await vi.waitFor(() => expect(held).toHaveLength(1), { interval: 5 });
    const second = await get(broker.socketPath, target());
    expect({ status: second.status, code: second.code }).toEqual({
      status: 429,
      code: "IC_EGRESS_TOO_MANY_REQUESTS",
    });
    expect(suite.upstream().seen).toHaveLength(1);
    held[0]?.();
    expect((await first).status).toBe(200);
    suite.upstream().reset();
    expect((await get(broker.socketPath, target())).status).toBe(200);
    await vi.waitFor(() => expect(broker.events).toHaveLength(3), { interval: 5 });
    expect(broker.events.map((e) => [e.decision, e.reason])).toEqual([
      ["denied", "too_many_concurrent"],
      ["allowed", "ok"],
      ["allowed", "ok"],
    ]);
  });
});

describe("an agent that hangs up", () => {
  it("is audited once as agent_closed, and the upstream request is cut", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    let upstreamClosed = false;
    suite.upstream().handle = (request) => {
      request.socket.on("close", () => {
        upstreamClosed = true;
      });
    };
    const host = `127.0.0.1:${port()}`;
    const socket = connect(broker.socketPath);
    socket.on("error", () => {});
    socket.write(`GET ${target()} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    await vi.waitFor(() => expect(suite.upstream().seen).toHaveLength(1), { interval: 5 });
    socket.destroy();
    const event = await onlyEvent(broker);
    expect(event).toMatchObject({ decision: "allowed", reason: "agent_closed", status: null });
    await vi.waitFor(() => expect(upstreamClosed).toBe(true), { interval: 5 });
  });
});
