import { readFile } from "node:fs/promises";
import { connect, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ApiServer,
  type ApiServerOptions,
  type SecurityEvent,
  startApiServer,
} from "../../src/api/http-server.js";
import { addAgentPrincipal, ensurePrincipals, type PrincipalStore } from "../../src/api/principals.js";
import type { ApiHandler } from "../../src/api/types.js";
import { GatewayError } from "../../src/errors.js";
import {
  codeOf,
  expectSecurityHeaders,
  fakeInterfaces,
  nodeRequest,
  rawExchange,
  temporaryDirectories,
} from "./helpers.js";

const newDir = temporaryDirectories();

/** Echoes who called and what they sent; a path under /throw/ raises the error it names. */
const echo: ApiHandler = async ({ method, path, query, principal, body }) => {
  if (path === "/throw/not-found")
    throw new GatewayError("IC_CHANGE_NOT_FOUND", "no change c9; list changes first");
  if (path === "/throw/conflict") throw new GatewayError("IC_CHANGE_CONFLICT", "c1 is already approved");
  if (path === "/throw/audit") throw new GatewayError("IC_AUDIT_WRITE", "the event log cannot be written");
  if (path === "/throw/bug") throw new Error("secret internal detail at /srv/state");
  if (path === "/status/999") return { status: 999, body: {} };
  if (path === "/status/204") return { status: 204, body: null };
  return {
    status: 200,
    body: { principal: { ...principal }, method, path, query: Object.fromEntries(query), body: body ?? null },
  };
};

interface Harness {
  server: ApiServer;
  port: number;
  store: PrincipalStore;
  tokens: { operator: string; viewer: string; agent: string };
  events: SecurityEvent[];
  internalErrors: unknown[];
  state: { ready: boolean; now: number };
}

async function startHarness(options: Partial<ApiServerOptions> = {}): Promise<Harness> {
  const dir = await newDir();
  const store = await ensurePrincipals(dir);
  const { tokenFile } = await addAgentPrincipal(store, "builder");
  const read = async (path: string) => (await readFile(path, "utf8")).trim();
  const events: SecurityEvent[] = [];
  const internalErrors: unknown[] = [];
  const state = { ready: true, now: 1_000_000 };
  const server = await startApiServer({
    host: "127.0.0.1",
    port: 0,
    dev: true,
    authenticate: store.authenticate,
    handler: echo,
    ready: () => state.ready,
    onSecurityEvent: (event) => events.push(event),
    onInternalError: (error) => internalErrors.push(error),
    now: () => state.now,
    ...options,
  });
  return {
    server,
    port: server.address.port,
    store,
    tokens: {
      operator: await read(join(dir, "tokens", "operator.token")),
      viewer: await read(join(dir, "tokens", "viewer.token")),
      agent: await read(tokenFile),
    },
    events,
    internalErrors,
    state,
  };
}

async function json(response: Response): Promise<unknown> {
  expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
  expectSecurityHeaders(response.headers);
  return response.json();
}

describe("the API server", () => {
  let h: Harness;
  let url: string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const post = (path: string, body: string | Uint8Array, contentType = "application/json") =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: { ...auth(h.tokens.operator), "content-type": contentType },
      body,
    });

  beforeAll(async () => {
    // Plenty of failures allowed here; the limiter has its own server below.
    h = await startHarness({ limits: { failedAuthPerWindow: 100_000 } });
    url = h.server.url;
  });
  afterAll(async () => {
    await h.server.close();
  });
  beforeEach(() => {
    h.events.length = 0;
    h.internalErrors.length = 0;
    h.state.ready = true;
  });

  it("listens where it was told and says so", () => {
    expect(h.server.address.host).toBe("127.0.0.1");
    expect(h.port).toBeGreaterThan(0);
    expect(url).toBe(`http://127.0.0.1:${h.port}`);
  });

  describe("health", () => {
    it("answers /healthz and /readyz without a token", async () => {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(await json(health)).toEqual({ ok: true });
      const ready = await fetch(`${url}/readyz?verbose=1`);
      expect(ready.status).toBe(200);
      expect(await json(ready)).toEqual({ ready: true });
      expect(h.events).toEqual([]);
    });

    it("answers 503 when not ready, or when the probe throws", async () => {
      h.state.ready = false;
      const response = await fetch(`${url}/readyz`);
      expect(response.status).toBe(503);
      expect(await json(response)).toEqual({ ready: false });
    });

    it("answers 503 when the readiness probe throws", async () => {
      const throwing = await startHarness({
        ready: () => {
          throw new Error("probe broke");
        },
      });
      try {
        const response = await fetch(`${throwing.server.url}/readyz`);
        expect(response.status).toBe(503);
        expect(await json(response)).toEqual({ ready: false });
        expect(throwing.internalErrors).toHaveLength(1);
      } finally {
        await throwing.server.close();
      }
    });

    it("answers HEAD with headers only", async () => {
      const response = await fetch(`${url}/healthz`, { method: "HEAD" });
      expect(response.status).toBe(200);
      expectSecurityHeaders(response.headers);
      expect(await response.text()).toBe("");
    });

    it("refuses other methods with 405", async () => {
      const response = await fetch(`${url}/healthz`, { method: "POST" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
      expect(await json(response)).toMatchObject({ error: { code: "IC_API_METHOD_NOT_ALLOWED" } });
    });

    it("treats /healthz/ and other spellings as ordinary, authenticated routes", async () => {
      expect((await fetch(`${url}/healthz/`)).status).toBe(401);
      expect((await fetch(`${url}/HEALTHZ`)).status).toBe(401);
    });
  });

  describe("authentication", () => {
    it("hands an authenticated request to the handler with its principal", async () => {
      const response = await fetch(`${url}/v1/changes?state=pending`, { headers: auth(h.tokens.viewer) });
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({
        principal: { id: "viewer", role: "viewer" },
        method: "GET",
        path: "/v1/changes",
        query: { state: "pending" },
        body: null,
      });
      const agent = await fetch(`${url}/v1/changes`, { headers: auth(h.tokens.agent) });
      expect(await json(agent)).toMatchObject({
        principal: { id: "agent:builder", role: "agent", agent: "builder" },
      });
    });

    it.each([
      ["no Authorization header", undefined, "no Authorization header", 'Bearer realm="ironclaw"'],
      ["another scheme", "Basic b3BlcmF0b3I6cGFzcw==", "not Bearer", 'error="invalid_request"'],
      ["a malformed header", "Bearer  two-spaces", "malformed", 'error="invalid_request"'],
      ["an unknown token", `Bearer ic_operator_${"A".repeat(43)}`, "did not issue", 'error="invalid_token"'],
    ])("answers 401 to %s and reports it", async (_what, header, reason, challenge) => {
      const response = await fetch(`${url}/v1/changes`, {
        headers: header === undefined ? {} : { authorization: header },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(response.headers.get("www-authenticate")).toContain(challenge);
      expect(await json(response)).toMatchObject({ error: { code: "IC_API_UNAUTHENTICATED" } });
      expect(h.events).toEqual([
        {
          type: "auth.failed",
          remote: "127.0.0.1",
          method: "GET",
          path: "/v1/changes",
          reason: expect.stringContaining(reason),
        },
      ]);
    });

    it("refuses a near-miss of a valid token, and never reports a token", async () => {
      const valid = h.tokens.operator;
      const nearMiss = `${valid.slice(0, -1)}${valid.endsWith("A") ? "B" : "A"}`;
      const response = await fetch(`${url}/v1/changes`, { headers: { authorization: `Bearer ${nearMiss}` } });
      expect(response.status).toBe(401);
      const body = JSON.stringify(await response.json());
      const events = JSON.stringify(h.events);
      expect(h.events).toHaveLength(1);
      for (const secret of [nearMiss, valid, nearMiss.slice(12), valid.slice(12)]) {
        expect(events).not.toContain(secret);
        expect(body).not.toContain(secret);
      }
    });

    it("refuses two Authorization headers even when one is valid", async () => {
      const response = await rawExchange(
        h.port,
        `GET /v1/changes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.operator}\r\nAuthorization: Bearer ${h.tokens.viewer}\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status).toBe(401);
      expect(h.events[0]?.reason).toBe("more than one Authorization header");
      expect(JSON.stringify(h.events)).not.toContain(h.tokens.operator);
    });
  });

  describe("methods", () => {
    it.each(["HEAD", "OPTIONS", "TRACE"])("refuses %s on API routes with 405", async (method) => {
      const response = await nodeRequest(h.port, {
        method,
        path: "/v1/changes",
        headers: auth(h.tokens.operator),
      });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe("GET, POST, PUT, PATCH, DELETE");
      expectSecurityHeaders(response.headers);
      if (method !== "HEAD")
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_METHOD_NOT_ALLOWED" } });
    });

    it("authenticates before saying which methods exist", async () => {
      const response = await nodeRequest(h.port, { method: "OPTIONS", path: "/v1/changes" });
      expect(response.status).toBe(401);
    });
  });

  describe("request bodies", () => {
    it("passes a JSON object to the handler", async () => {
      const response = await post("/v1/changes", '{"summary":"fix","files":[{"path":"a","size":3}]}');
      expect(response.status).toBe(200);
      expect(await json(response)).toMatchObject({
        method: "POST",
        body: { summary: "fix", files: [{ path: "a", size: 3 }] },
      });
    });

    it("accepts charset=utf-8 and non-ASCII text", async () => {
      const response = await post("/v1/changes", '{"summary":"héllo 😀"}', "application/json; charset=UTF-8");
      expect(await json(response)).toMatchObject({ body: { summary: "héllo 😀" } });
    });

    it("passes no body when none was sent", async () => {
      const response = await fetch(`${url}/v1/changes/c1/approve`, {
        method: "POST",
        headers: auth(h.tokens.operator),
      });
      expect(await json(response)).toMatchObject({ method: "POST", body: null });
    });

    it.each([
      ["text/plain", '{"a":1}'],
      ["application/x-www-form-urlencoded", "a=1"],
      ["application/json; charset=latin1", '{"a":1}'],
      ["application/jsonx", '{"a":1}'],
    ])("answers 415 to Content-Type %s", async (type, body) => {
      const response = await post("/v1/changes", body, type);
      expect(response.status).toBe(415);
      expect(await json(response)).toMatchObject({ error: { code: "IC_API_UNSUPPORTED_MEDIA_TYPE" } });
    });

    it("answers 415 to a body without Content-Type, or a compressed one", async () => {
      const bare = await nodeRequest(
        h.port,
        { method: "POST", path: "/v1/x", headers: auth(h.tokens.operator) },
        (r) => r.end('{"a":1}'),
      );
      expect(bare.status).toBe(415);
      const gzip = await nodeRequest(
        h.port,
        {
          method: "POST",
          path: "/v1/x",
          headers: {
            ...auth(h.tokens.operator),
            "content-type": "application/json",
            "content-encoding": "gzip",
          },
        },
        (r) => r.end('{"a":1}'),
      );
      expect(gzip.status).toBe(415);
      expectSecurityHeaders(gzip.headers);
    });

    it("answers 400 to a body on GET", async () => {
      const response = await nodeRequest(
        h.port,
        {
          method: "GET",
          path: "/v1/x",
          headers: { ...auth(h.tokens.operator), "content-type": "application/json" },
        },
        (r) => r.end('{"a":1}'),
      );
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BAD_REQUEST" } });
    });

    it("accepts a body of exactly the limit", async () => {
      const body = `{"a":"${"x".repeat(64 * 1024 - 8)}"}`;
      expect(Buffer.byteLength(body)).toBe(64 * 1024);
      expect((await post("/v1/changes", body)).status).toBe(200);
    });

    it("answers 413 from Content-Length alone, without waiting for the body", async () => {
      const response = await nodeRequest(
        h.port,
        {
          method: "POST",
          path: "/v1/x",
          headers: {
            ...auth(h.tokens.operator),
            "content-type": "application/json",
            "content-length": "10000000",
          },
        },
        (r) => r.write("{"), // and never the rest
      );
      expect(response.status).toBe(413);
      expect(response.headers.connection).toBe("close");
      expectSecurityHeaders(response.headers);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BODY_TOO_LARGE" } });
    });

    it("answers 413 to a chunked body once it passes the limit, and stops reading", async () => {
      let written = 0;
      const response = await nodeRequest(
        h.port,
        {
          method: "POST",
          path: "/v1/x",
          headers: { ...auth(h.tokens.operator), "content-type": "application/json" },
        },
        (request) => {
          const chunk = Buffer.alloc(16 * 1024, 0x20);
          const pump = (): void => {
            // Keep writing until the server answers; a server that buffered everything would take it all.
            while (written < 64 * 1024 * 1024 && !request.destroyed) {
              written += chunk.length;
              if (!request.write(chunk)) {
                request.once("drain", pump);
                return;
              }
            }
          };
          pump();
        },
      );
      expect(response.status).toBe(413);
      expect(written).toBeLessThan(64 * 1024 * 1024);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BODY_TOO_LARGE" } });
    });

    const deep = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
    it.each([
      ["duplicate keys", '{"a":1,"a":2}'],
      ["nested duplicate keys", '{"x":{"k":1,"k":1}}'],
      ["__proto__", '{"__proto__":{"isAdmin":true}}'],
      ["constructor", '{"constructor":{"prototype":{}}}'],
      ["prototype", '{"x":{"prototype":1}}'],
      ["nesting deeper than 32", deep(33)],
      ["a top-level array", "[1,2]"],
      ["a top-level string", '"text"'],
      ["a top-level null", "null"],
      ["a trailing comma", '{"a":1,}'],
      ["a comment", '{"a":1 /* x */}'],
      ["single quotes", "{'a':1}"],
      ["NaN", '{"a":NaN}'],
      ["a float", '{"a":1.5}'],
      ["an unsafe integer", '{"a":12345678901234567890}'],
      ["trailing data", '{"a":1}{"b":2}'],
      ["a byte order mark", "\ufeff{}"],
      ["an escaped lone surrogate", '{"a":"\\ud800"}'],
      ["whitespace only", "  "],
      ["bad UTF-8", Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
      ["overlong UTF-8", Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])],
      ["a UTF-8-encoded surrogate", Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d])],
      ["a truncated UTF-8 sequence", Buffer.from([0x7b, 0x22, 0xe2, 0x82, 0x22, 0x3a, 0x31, 0x7d])],
    ])("answers 400 IC_API_BAD_JSON to %s", async (_what, body) => {
      const response = await post("/v1/changes", body);
      expect(response.status).toBe(400);
      const answer = (await json(response)) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe("IC_API_BAD_JSON");
      expect(answer.error.message).toMatch(/^expected .*, found .*; /);
    });

    it("accepts nesting of exactly 32", async () => {
      expect((await post("/v1/changes", deep(32))).status).toBe(200);
    });
  });

  describe("Expect: 100-continue", () => {
    const head = (authorization: string) =>
      `POST /v1/x HTTP/1.1\r\nHost: x\r\n${authorization}Content-Type: application/json\r\nContent-Length: 7\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;

    it("does not invite the body of an unauthenticated request", async () => {
      const response = await rawExchange(h.port, head(""));
      expect(response.text).not.toContain("100 Continue");
      expect(response.status).toBe(401);
    });

    it("invites the body once the request is authenticated", async () => {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port: h.port });
        let received = "";
        socket.on("data", (chunk: Buffer) => {
          const before = received;
          received += chunk.toString();
          if (!before.includes("100 Continue") && received.includes("100 Continue")) socket.write('{"a":1}');
        });
        socket.on("error", reject);
        socket.on("close", () => resolve(received));
        socket.write(head(`Authorization: Bearer ${h.tokens.operator}\r\n`));
      });
      expect(text).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
      expect(text).toContain("HTTP/1.1 200 OK");
      expect(text).toContain('"body":{"a":1}');
    });

    it("answers 417 to any other expectation", async () => {
      const response = await rawExchange(
        h.port,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n",
      );
      expect(response.status).toBe(417);
      expectSecurityHeaders(response.headers);
    });
  });

  describe("request targets", () => {
    const get = (target: string) =>
      rawExchange(
        h.port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.operator}\r\nConnection: close\r\n\r\n`,
      );

    it.each([
      "http://127.0.0.1/v1/changes",
      "/v1/../v1/changes",
      "/v1/%2e%2e/changes",
      "/v1/changes%2Fc1",
      "/v1/changes%5Cc1",
      "/v1/changes/c1%00",
      "//v1/changes",
    ])("answers 400 to %j", async (target) => {
      const response = await get(target);
      expect(response.status).toBe(400);
      expectSecurityHeaders(response.headers);
      expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BAD_REQUEST" } });
    });

    it("answers 400 in JSON to what node's parser refuses (a raw NUL)", async () => {
      const response = await rawExchange(
        h.port,
        Buffer.from("GET /v1/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n", "latin1"),
      );
      expect(response.status).toBe(400);
      expectSecurityHeaders(response.headers);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BAD_REQUEST" } });
    });

    it("answers 431 in JSON to oversized headers", async () => {
      const response = await rawExchange(
        h.port,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(17 * 1024)}\r\n\r\n`,
      );
      expect(response.status).toBe(431);
      expectSecurityHeaders(response.headers);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BAD_REQUEST" } });
    });

    it("answers 400 to a request without Host", async () => {
      const response = await rawExchange(h.port, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
      expect(response.status).toBe(400);
    });
  });

  describe("handler outcomes", () => {
    it.each([
      ["/throw/not-found", 404, "IC_CHANGE_NOT_FOUND"],
      ["/throw/conflict", 409, "IC_CHANGE_CONFLICT"],
      ["/throw/audit", 503, "IC_AUDIT_WRITE"],
    ])("maps a GatewayError from %s to its status", async (path, status, code) => {
      const response = await fetch(`${url}${path}`, { headers: auth(h.tokens.operator) });
      expect(response.status).toBe(status);
      expect(await json(response)).toEqual({ error: { code, message: expect.any(String) } });
    });

    it("answers 500 to any other exception without leaking it, and reports it", async () => {
      const response = await fetch(`${url}/throw/bug`, { headers: auth(h.tokens.operator) });
      expect(response.status).toBe(500);
      const text = JSON.stringify(await json(response));
      expect(text).toContain("IC_API_INTERNAL");
      expect(text).not.toMatch(/secret|\/srv|at .*\.ts/);
      expect(h.internalErrors).toHaveLength(1);
    });

    it("answers 500 to a handler's impossible status", async () => {
      const response = await fetch(`${url}/status/999`, { headers: auth(h.tokens.operator) });
      expect(response.status).toBe(500);
      expect(await json(response)).toMatchObject({ error: { code: "IC_API_INTERNAL" } });
    });

    it("sends 204 without a body, with the security headers", async () => {
      const response = await fetch(`${url}/status/204`, { headers: auth(h.tokens.operator) });
      expect(response.status).toBe(204);
      expectSecurityHeaders(response.headers);
    });

    it("answers a security event that cannot be recorded with its error, not a silent 401", async () => {
      const failing = await startHarness({
        onSecurityEvent: () => {
          throw new GatewayError("IC_AUDIT_WRITE", "the event log cannot be written");
        },
      });
      try {
        const response = await fetch(`${failing.server.url}/v1/changes`);
        expect(response.status).toBe(503);
        expect(await json(response)).toMatchObject({ error: { code: "IC_AUDIT_WRITE" } });
      } finally {
        await failing.server.close();
      }
    });
  });
});

describe("failed-authentication limit", () => {
  it("answers 429 after 10 failures, even to a valid token, until the window has passed", async () => {
    const h = await startHarness();
    try {
      const url = `${h.server.url}/v1/changes`;
      const valid = { authorization: `Bearer ${h.tokens.operator}` };
      for (let i = 0; i < 10; i++) {
        const response = await fetch(url, { headers: { authorization: `Bearer wrong-${i}` } });
        expect(response.status).toBe(401);
      }
      expect(h.events.map((e) => e.type)).toEqual(Array(10).fill("auth.failed"));

      const limited = await fetch(url, { headers: valid });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("retry-after")).toBe("60");
      expect(await json(limited)).toMatchObject({ error: { code: "IC_API_RATE_LIMITED" } });
      expect(h.events.at(-1)).toMatchObject({
        type: "auth.rate_limited",
        remote: "127.0.0.1",
        path: "/v1/changes",
      });

      h.state.now += 30_000;
      const still = await fetch(url, { headers: valid });
      expect(still.status).toBe(429);
      expect(still.headers.get("retry-after")).toBe("30");
      expect(h.events).toHaveLength(11); // one record per block, not one per refused request

      expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);

      h.state.now += 30_000;
      const after = await fetch(url, { headers: valid });
      expect(after.status).toBe(200);
      expect(JSON.stringify(h.events)).not.toContain(h.tokens.operator);
    } finally {
      await h.server.close();
    }
  });
});

describe("timeouts", () => {
  it("closes a connection whose headers never finish (slow loris)", async () => {
    const h = await startHarness({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
    try {
      const started = Date.now();
      const response = await rawExchange(h.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", 5_000);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(response.status).toBe(408);
      expectSecurityHeaders(response.headers);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: "IC_API_BAD_REQUEST" } });
    } finally {
      await h.server.close();
    }
  });

  it("closes a connection whose body never finishes", async () => {
    const h = await startHarness({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
    try {
      const response = await rawExchange(
        h.port,
        `POST /v1/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.tokens.operator}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
        5_000,
      );
      expect(response.status).toBe(408);
    } finally {
      await h.server.close();
    }
  });
});

async function canListen(host: string): Promise<boolean> {
  const probe = createNetServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(0, host, () => probe.close(() => resolve(true)));
  });
}

const ipv6Loopback = await canListen("::1");

describe("binding", () => {
  async function freePort(): Promise<number> {
    const probe = createNetServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    if (typeof address !== "object" || address === null) throw new Error("no port");
    return address.port;
  }

  const refusesConnections = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.on("connect", () => {
        socket.destroy();
        resolve(false);
      });
      socket.on("error", () => resolve(true));
    });

  it.each([
    ["0.0.0.0", true],
    ["::", true],
    ["127.0.0.1", false],
    ["192.168.1.10", true],
    ["localhost", true],
  ])("refuses to start on %s (dev %s) and nothing listens", async (host, dev) => {
    const port = await freePort();
    const options: ApiServerOptions = {
      host,
      port,
      dev,
      interfaces: {},
      authenticate: () => undefined,
      handler: echo,
      ready: () => true,
      onSecurityEvent: () => undefined,
    };
    expect(await codeOf(startApiServer(options))).toBe("IC_API_BIND_REFUSED");
    expect(await refusesConnections(port)).toBe(true);
  });

  it("refuses a Tailscale address this host only claims to have", async () => {
    const error = await startHarness({
      host: "100.101.102.103",
      dev: false,
      interfaces: fakeInterfaces({ tailscale0: ["100.101.102.103"] }),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_API_BIND_REFUSED" });
    expect((error as Error).message).toMatch(/cannot listen on 100\.101\.102\.103:0/);
  });

  it.skipIf(!ipv6Loopback)("listens on IPv6 loopback in development", async () => {
    const h = await startHarness({ host: "::1" });
    try {
      expect(h.server.url).toBe(`http://[::1]:${h.port}`);
      expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    } finally {
      await h.server.close();
    }
  });

  it("refuses a port that is taken, with a clear error", async () => {
    const h = await startHarness();
    try {
      const error = await startHarness({ port: h.port }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "IC_API_ADDRESS_IN_USE" });
      expect((error as Error).message).toMatch(/another process listens there/);
    } finally {
      await h.server.close();
    }
  });

  it("stops listening on close, and close can be called twice", async () => {
    const h = await startHarness();
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    await Promise.all([h.server.close(), h.server.close()]);
    expect(await refusesConnections(h.port)).toBe(true);
  });
});
