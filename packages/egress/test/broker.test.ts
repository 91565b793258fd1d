import { lstat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EgressError, startEgressBroker } from "../src/index.js";
import { egressSuite, expectRefused, get, onlyEvent, UPSTREAM_BODY } from "./helpers.js";

const suite = egressSuite();
const local = () => ({ host: "127.0.0.1", port: suite.upstream().port });

describe("an allowed request", () => {
  it("goes to 127.0.0.1 approved by exact IP and comes back whole, audited allowed/ok", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const { port } = suite.upstream();
    const got = await get(broker.socketPath, `https://127.0.0.1:${port}/v1/x?q=secret-query`, {
      headers: { Authorization: "Bearer secret-token", Accept: "text/plain" },
    });
    expect(got.status).toBe(200);
    expect(got.body).toBe(UPSTREAM_BODY);
    const [seen] = suite.upstream().seen;
    expect(seen?.url).toBe("/v1/x?q=secret-query");
    expect(seen?.headers.host).toBe(`127.0.0.1:${port}`);
    expect(seen?.headers.authorization).toBe("Bearer secret-token");
    const event = await onlyEvent(broker);
    expect(event).toEqual({
      type: "egress.request",
      agent: "agent-1",
      method: "GET",
      host: "127.0.0.1",
      port,
      path: "/v1/x",
      status: 200,
      bytesIn: UPSTREAM_BODY.length,
      bytesOut: 0,
      durationMs: expect.any(Number),
      decision: "allowed",
      reason: "ok",
    });
    // The audit event holds no header value and no query string.
    expect(JSON.stringify(event)).not.toMatch(/secret/);
  });

  it("sends a request body upstream as is and counts it", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    suite.upstream().handle = (_request, response, body) => {
      response.writeHead(201, { "Content-Type": "application/octet-stream" });
      response.end(Buffer.concat([Buffer.from("echo:"), body]));
    };
    const body = "x".repeat(5000);
    const got = await get(broker.socketPath, `https://127.0.0.1:${suite.upstream().port}/upload`, {
      method: "POST",
      body,
    });
    expect(got.status).toBe(201);
    expect(got.body).toBe(`echo:${body}`);
    expect(suite.upstream().seen[0]?.body.toString()).toBe(body);
    expect(suite.upstream().seen[0]?.headers["content-length"]).toBe("5000");
    const event = await onlyEvent(broker);
    expect(event).toMatchObject({ method: "POST", status: 201, bytesOut: 5000, bytesIn: 5005, reason: "ok" });
  });

  it("resolves an approved name through the lookup once, and verifies the certificate for that name", async () => {
    const { port } = suite.upstream();
    const broker = await suite.broker({
      // 127.0.0.1 is approved for this port by exact IP, so a name resolving there may use it.
      allowlist: [{ host: "upstream.test", port }, local()],
      answers: () => [{ address: "127.0.0.1", family: 4 }],
    });
    const got = await get(broker.socketPath, `https://upstream.test:${port}/named`);
    expect(got.status).toBe(200);
    expect(broker.lookups).toEqual(["upstream.test"]);
    expect(suite.upstream().seen[0]?.headers.host).toBe(`upstream.test:${port}`);
    expect(await onlyEvent(broker)).toMatchObject({
      host: "upstream.test",
      decision: "allowed",
      reason: "ok",
    });
  });

  it("reads the allowlist at every request", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const target = `https://127.0.0.1:${suite.upstream().port}/`;
    expect((await get(broker.socketPath, target)).status).toBe(200);
    broker.allowlist.length = 0;
    expect((await get(broker.socketPath, target)).status).toBe(403);
    expect(broker.events.map((e) => e.reason)).toEqual(["ok", "ip_literal_not_approved"]);
  });

  it("passes a redirect to an approved destination through", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const { port } = suite.upstream();
    for (const location of ["/elsewhere", `https://127.0.0.1:${port}/other`]) {
      suite.upstream().handle = (_request, response) => {
        response.writeHead(302, { Location: location });
        response.end();
      };
      const got = await get(broker.socketPath, `https://127.0.0.1:${port}/from`);
      expect(got.status).toBe(302);
      expect(got.headers.location).toBe(location);
    }
    expect(broker.events.map((e) => [e.decision, e.reason, e.status])).toEqual([
      ["allowed", "ok", 302],
      ["allowed", "ok", 302],
    ]);
  });

  it("strips proxy and hop-by-hop headers from the response", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(200, {
        "Proxy-Authenticate": "Basic realm=x",
        Connection: "X-Hop",
        "X-Hop": "1",
        "Set-Cookie": "a=b",
        "X-Kept": "yes",
      });
      response.end("ok");
    };
    const got = await get(broker.socketPath, `https://127.0.0.1:${suite.upstream().port}/`);
    expect(got.headers["proxy-authenticate"]).toBeUndefined();
    expect(got.headers["x-hop"]).toBeUndefined();
    expect(got.headers["set-cookie"]).toEqual(["a=b"]);
    expect(got.headers["x-kept"]).toBe("yes");
  });
});

describe("an upstream that cannot be verified", () => {
  it("is refused when its certificate is not signed by a trusted CA", async () => {
    const rogue = suite.rogue();
    const broker = await suite.broker({ allowlist: [{ host: "127.0.0.1", port: rogue.port }] });
    const got = get(broker.socketPath, `https://127.0.0.1:${rogue.port}/`);
    await expectRefused(broker, got, {
      status: 502,
      code: "IC_EGRESS_UPSTREAM_TLS",
      reason: "upstream_tls_error",
    });
    expect(rogue.seen).toHaveLength(0);
  });

  it("is refused when its certificate does not name the host", async () => {
    const { port } = suite.upstream();
    const broker = await suite.broker({
      allowlist: [{ host: "other.test", port }, local()],
      answers: () => [{ address: "127.0.0.1", family: 4 }],
    });
    const got = get(broker.socketPath, `https://other.test:${port}/`);
    await expectRefused(broker, got, {
      status: 502,
      code: "IC_EGRESS_UPSTREAM_TLS",
      reason: "upstream_tls_error",
    });
    expect(suite.upstream().seen).toHaveLength(0);
  });
});

describe("the socket and the broker's life", () => {
  it("creates the socket with mode 0600 by default, or the mode asked for, and removes it on close", async () => {
    const broker = await suite.broker();
    expect((await lstat(broker.socketPath)).mode & 0o777).toBe(0o600);
    const shared = await suite.broker({ socketMode: 0o666 });
    expect((await lstat(shared.socketPath)).mode & 0o777).toBe(0o666);
    await shared.close();
    await expect(lstat(shared.socketPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses to replace a file already at the socket path", async () => {
    const broker = await suite.broker();
    const taken = join(broker.socketPath, "..", "taken.sock");
    await writeFile(taken, "not a socket");
    const attempt = startEgressBroker({
      socketPath: taken,
      agent: "a",
      allowlist: () => [],
      audit: () => {},
    });
    await expect(attempt).rejects.toMatchObject({ code: "IC_EGRESS_LISTEN_FAILED" });
    await expect(attempt).rejects.toBeInstanceOf(EgressError);
  });

  it("refuses bad options with a coded error", async () => {
    const base = { socketPath: "/tmp/x.sock", agent: "a", allowlist: () => [], audit: () => {} };
    await expect(startEgressBroker({ ...base, agent: "" })).rejects.toMatchObject({
      code: "IC_EGRESS_OPTIONS_INVALID",
    });
    await expect(startEgressBroker({ ...base, socketMode: 0o1777 })).rejects.toMatchObject({
      code: "IC_EGRESS_OPTIONS_INVALID",
    });
    await expect(startEgressBroker({ ...base, limits: { concurrent: 0 } })).rejects.toMatchObject({
      code: "IC_EGRESS_OPTIONS_INVALID",
    });
  });

  it("refuses every request once the audit sink has failed", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const target = `https://127.0.0.1:${suite.upstream().port}/`;
    broker.events.push = () => {
      throw new Error("disk full");
    };
    const stderr = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect((await get(broker.socketPath, target)).status).toBe(200); // its audit event is what fails
      const got = await get(broker.socketPath, target);
      expect({ status: got.status, code: got.code }).toEqual({ status: 503, code: "IC_EGRESS_UNAVAILABLE" });
    } finally {
      process.stderr.write = stderr;
    }
    expect(suite.upstream().seen).toHaveLength(1);
  });
});
