import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The shape of @sigstore/mock's handlers: one POST route that maps a request body to a response. */
export interface MockHandler {
  path: string;
  fn: (body: string) => Promise<{
    statusCode: number;
    response: string | ArrayBufferView;
    contentType?: string;
  }>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A real HTTP server on 127.0.0.1 whose routes are @sigstore/mock handlers. */
export class LoopbackServer {
  readonly #server: Server;
  readonly #routes = new Map<string, MockHandler["fn"]>();
  #url: string | undefined;

  private constructor() {
    this.#server = createServer((req, res) => {
      // One request per connection: a client that reuses a keep-alive socket just as the server's
      // idle timeout closes it gets ECONNRESET, which made signing in busy test runs fail at random.
      res.shouldKeepAlive = false;
      this.#dispatch(req, res).catch((error: unknown) => {
        // A handler that throws (the mock's own errors are 400 responses) is a bug: say so, do not hang.
        const message = error instanceof Error ? error.message : String(error);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`sigstore-local: ${message}`);
      });
    });
  }

  /** Starts listening on an ephemeral loopback port. */
  static async listen(): Promise<LoopbackServer> {
    const server = new LoopbackServer();
    await new Promise<void>((resolve, reject) => {
      server.#server.once("error", reject);
      server.#server.listen(0, "127.0.0.1", () => {
        server.#server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.#server.address() as AddressInfo;
    server.#url = `http://127.0.0.1:${port}`;
    return server;
  }

  get url(): string {
    if (this.#url === undefined) throw new Error("sigstore-local: server is not listening");
    return this.#url;
  }

  /** Hosts a handler; routes can be added after listening, since some services need their own URL. */
  route(handler: MockHandler): void {
    this.#routes.set(handler.path, handler.fn);
  }

  /** Stops listening and drops every connection, idle keep-alive ones included. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve, reject) => {
      this.#server.close((error) => (error ? reject(error) : resolve()));
    });
    this.#server.closeAllConnections();
    await closed;
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const fn = this.#routes.get(path);
    if (fn === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`sigstore-local: no route for ${path}`);
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain", allow: "POST" }).end("sigstore-local: POST only");
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      res.writeHead(413, { "content-type": "text/plain" }).end("sigstore-local: request body too large");
      return;
    }
    const { statusCode, response, contentType } = await fn(body);
    const bytes =
      typeof response === "string"
        ? Buffer.from(response)
        : Buffer.from(response.buffer, response.byteOffset, response.byteLength);
    res.writeHead(statusCode, {
      "content-type": contentType ?? "text/plain",
      "content-length": bytes.length,
    });
    res.end(bytes);
  }
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
