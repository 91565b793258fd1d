import { mkdtemp, rm } from "node:fs/promises";
import { type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LoopbackTls, loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import {
  type EgressAuditEvent,
  type EgressBrokerOptions,
  type EgressRule,
  type ResolvedAddress,
  startEgressBroker,
} from "../src/index.js";

export type Pki = LoopbackTls;

/** A throwaway CA, a leaf for IP 127.0.0.1 and upstream.test it signed, and a self-signed rogue leaf. */
export const makePki = loopbackTls;

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  body: Buffer;
}

export type UpstreamHandler = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

export const UPSTREAM_BODY = "hello from upstream";

/** An HTTPS server on 127.0.0.1 that records what reaches it; `handle` is replaced per test. */
export class Upstream {
  readonly seen: Seen[] = [];
  connections = 0;
  handle: UpstreamHandler = (_request, response) => {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.end(UPSTREAM_BODY);
  };
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(key: string, cert: string): Promise<Upstream> {
    const server = createServer({ key, cert });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("expected a TCP address");
    const upstream = new Upstream(server, address.port);
    server.on("connection", () => {
      upstream.connections += 1;
    });
    server.on("tlsClientError", () => {});
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const seen: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.alloc(0),
      };
      upstream.seen.push(seen);
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen.body = Buffer.concat(chunks);
        upstream.handle(req, res, seen.body);
      });
    });
    return upstream;
  }

  reset(): void {
    this.seen.length = 0;
    this.connections = 0;
    this.handle = (_request, response) => {
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.end(UPSTREAM_BODY);
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface Harness {
  readonly socketPath: string;
  readonly events: EgressAuditEvent[];
  readonly lookups: string[];
  /** The allowlist the broker reads at every request; tests change it in place. */
  readonly allowlist: EgressRule[];
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<EgressBrokerOptions, "lookup" | "allowlist" | "audit">> {
  readonly allowlist?: EgressRule[];
  readonly answers?: (hostname: string, call: number) => readonly ResolvedAddress[];
}

/** Starts one shared upstream (and a rogue one) for a test file, and a fresh broker per test. */
export function egressSuite() {
  const state: { pki?: Pki; upstream?: Upstream; rogue?: Upstream } = {};
  const open: Harness[] = [];
  const dirs: string[] = [];
  // The upstreams' certificates are made with openssl: without it the file's tests are skipped and summed up.
  const haveOpenssl = haveSystemTools("egress broker against TLS upstreams", ["openssl"]);
  beforeEach((context) => {
    if (!haveOpenssl) context.skip();
  });
  beforeAll(async () => {
    if (!haveOpenssl) return;
    state.pki = await makePki();
    state.upstream = await Upstream.start(state.pki.leafKey, state.pki.leafCert);
    state.rogue = await Upstream.start(state.pki.rogueKey, state.pki.rogueCert);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((harness) => harness.close()));
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    state.upstream?.reset();
    state.rogue?.reset();
  });
  afterAll(async () => {
    await state.upstream?.close();
    await state.rogue?.close();
  });
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the suite is not started");
    return value;
  };
  return {
    upstream: () => need(state.upstream),
    rogue: () => need(state.rogue),
    pki: () => need(state.pki),
    async broker(options: HarnessOptions = {}): Promise<Harness> {
      const dir = await mkdtemp(join(tmpdir(), "ironclaw-egress-"));
      dirs.push(dir);
      const events: EgressAuditEvent[] = [];
      const lookups: string[] = [];
      const allowlist = options.allowlist ?? [];
      const { answers, allowlist: _ignored, ...rest } = options;
      const broker = await startEgressBroker({
        socketPath: join(dir, "egress.sock"),
        agent: "agent-1",
        ca: [need(state.pki).caCert],
        ...rest,
        allowlist: () => allowlist,
        audit: (event) => events.push(event),
        lookup: async (hostname) => {
          lookups.push(hostname);
          if (answers === undefined) throw Object.assign(new Error("no DNS in tests"), { code: "ENOTFOUND" });
          return answers(hostname, lookups.length);
        },
      });
      const harness: Harness = {
        socketPath: broker.socketPath,
        events,
        lookups,
        allowlist,
        close: () => broker.close(),
      };
      open.push(harness);
      return harness;
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The error code in a JSON refusal body. */
  readonly code: string | undefined;
}

export interface SendOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
  /** Sent with Transfer-Encoding: chunked, in these pieces. */
  readonly chunks?: readonly (string | Buffer)[];
}

/** One request over the socket with node's client, the request target sent exactly as given. */
export function send(socketPath: string, target: string, options: SendOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...options.headers };
    if (options.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(options.body));
    const req = request({
      socketPath,
      method: options.method ?? "GET",
      path: target,
      headers,
      setHost: false,
      agent: false,
    });
    req.on("error", reject);
    req.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve(answer(response.statusCode ?? 0, response.headers, Buffer.concat(chunks))),
      );
    });
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else req.end(options.body);
  });
}

/** `send` for an allowed target: Host is the target's authority. */
export function get(socketPath: string, target: string, options: SendOptions = {}): Promise<Answer> {
  const host = /^[a-z]+:\/\/([^/?#]*)/i.exec(target)?.[1] ?? "";
  return send(socketPath, target, { ...options, headers: { Host: host, ...options.headers } });
}

/** Bytes written as is, for what node's client will not send; the answer is read until the broker closes. */
export function sendRaw(socketPath: string, text: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const raw = Buffer.concat(chunks).toString("latin1");
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.slice(0, split).split("\r\n");
      const status = Number(head[0]?.split(" ")[1] ?? 0);
      const headers: IncomingHttpHeaders = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve(answer(status, headers, Buffer.from(raw.slice(split + 4), "latin1")));
    });
    socket.write(text);
  });
}

function answer(status: number, headers: IncomingHttpHeaders, body: Buffer): Answer {
  const text = body.toString("utf8");
  let code: string | undefined;
  if (String(headers["content-type"] ?? "").startsWith("application/json")) {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  }
  return { status, headers, body: text, code };
}

/** The one audit event of the one request a test made; fails if there are more. */
export async function onlyEvent(harness: Harness): Promise<EgressAuditEvent> {
  await vi.waitFor(() => expect(harness.events.length).toBeGreaterThan(0), { interval: 5 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(harness.events).toHaveLength(1);
  const [event] = harness.events;
  if (event === undefined) throw new Error("unreachable");
  return event;
}

/** Checks a refusal end to end: the answer, its audit event, and that nothing reached the upstream. */
export async function expectRefused(
  harness: Harness,
  answerPromise: Promise<Answer>,
  expected: { readonly status: number; readonly code: string; readonly reason: string },
  upstream?: Upstream,
): Promise<EgressAuditEvent> {
  const got = await answerPromise;
  expect({ status: got.status, code: got.code }).toEqual({ status: expected.status, code: expected.code });
  const event = await onlyEvent(harness);
  expect({ decision: event.decision, reason: event.reason, status: event.status }).toEqual({
    decision: "denied",
    reason: expected.reason,
    status: expected.status,
  });
  expect(event.bytesOut).toBe(0);
  if (upstream !== undefined) {
    expect(upstream.connections).toBe(0);
    expect(upstream.seen).toHaveLength(0);
  }
  return event;
}
