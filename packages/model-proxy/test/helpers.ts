import { mkdtemp, readFile, rm } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CompleteRequest,
  createMemoryLedger,
  type ModelApproval,
  type ModelCallEvent,
  type ModelProvider,
  type ModelProviders,
  type ModelProxy,
  type ProxyLimits,
  startModelProxy,
  type UsageLedger,
} from "../src/index.js";

export const FIXTURES = join(import.meta.dirname, "fixtures");

/** A recorded response body of a provider's live API, from the SDKs' test data (see fixtures/NOTICE). */
export async function fixture(name: string): Promise<string> {
  return readFile(join(FIXTURES, name), "utf8");
}

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/**
 * A provider-shaped HTTP(S) server on 127.0.0.1 that records every request; `handle` is set per test.
 * Sockets are tracked so a stalled exchange can be cut when the test ends.
 */
export class FakeProvider {
  readonly seen: Seen[] = [];
  handle: Handler = (_request, response) => {
    response.writeHead(500).end();
  };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(tls?: { key: string; cert: string }): Promise<FakeProvider> {
    const server: Server = tls === undefined ? createHttpServer() : createHttpsServer(tls);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("expected a TCP address");
    const fake = new FakeProvider(
      server,
      `${tls === undefined ? "http" : "https"}://127.0.0.1:${address.port}`,
    );
    server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
      fake.sockets.add(socket);
      socket.on("close", () => fake.sockets.delete(socket));
    });
    server.on("tlsClientError", () => {});
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        fake.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        fake.handle(req, res, body);
      });
    });
    return fake;
  }

  /** Answers every request with this status and JSON body. */
  reply(status: number, body: string): void {
    this.handle = (_request, response) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(body);
    };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface ProxyHarness {
  readonly proxy: ModelProxy;
  readonly events: ModelCallEvent[];
  readonly ledger: UsageLedger;
  approval: ModelApproval | null | undefined;
  close(): Promise<void>;
}

export async function startHarness(options: {
  providers: ModelProviders;
  approval?: ModelApproval;
  agent?: string;
  ca?: readonly string[];
  limits?: Partial<ProxyLimits>;
  ledger?: UsageLedger;
  now?: () => Date;
  audit?: (event: ModelCallEvent) => void;
}): Promise<ProxyHarness> {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-model-"));
  const events: ModelCallEvent[] = [];
  const ledger = options.ledger ?? createMemoryLedger();
  const harness = {
    approval: options.approval,
  } as ProxyHarness;
  const proxy = await startModelProxy({
    socketPath: join(dir, "model.sock"),
    agent: options.agent ?? "demo",
    approval: () => harness.approval,
    providers: options.providers,
    ledger,
    audit:
      options.audit ??
      ((event) => {
        events.push(event);
      }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.now === undefined ? {} : { now: options.now }),
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return Object.assign(harness, {
    proxy,
    events,
    ledger,
    close: async () => {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export interface ProxyAnswer {
  readonly status: number;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the proxy answered
  readonly json: any;
}

/** One request to the proxy's socket, as the agent loop would send it. */
export function callProxy(
  socketPath: string,
  body: unknown,
  options: { method?: string; path?: string; contentType?: string; raw?: string } = {},
): Promise<ProxyAnswer> {
  const payload = options.raw ?? JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: options.method ?? "POST",
        path: options.path ?? "/v1/complete",
        headers: {
          "content-type": options.contentType ?? "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on("error", reject);
    // The proxy may answer (413) and close before a large body is all written: not the test's failure.
    req.on("socket", (socket) => socket.on("error", () => {}));
    req.end(payload);
  });
}

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "Lookup the weather for a given city",
  inputSchema: {
    type: "object",
    properties: { location: { type: "string" }, units: { type: "string", enum: ["c", "f"] } },
    required: ["location", "units"],
  },
};

export const simpleRequest = (text = "hello"): CompleteRequest => ({
  system: "",
  messages: [{ role: "user", content: text }],
  tools: [],
});

export function providersOf(...providers: ModelProvider[]): ModelProviders {
  return new Map(providers.map((p) => [p.name, p]));
}
