import { createReadStream, statSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";

/** What the server does wrong, per test. */
export interface Faults {
  /** Answer this status for an asset instead of the file. */
  status?: Record<string, number>;
  /** Announce the whole file, send this many bytes, then cut the connection. */
  cutAfter?: Record<string, number>;
  /** Wait this long before answering anything. */
  delayMs?: number;
  /** `/latest` redirects to itself through a second URL, forever. */
  redirectLoop?: boolean;
  /** `/latest` answers the tag as text, as a static mirror does. */
  latestAsText?: boolean;
}

/**
 * Releases on loopback with GitHub's layout (DESIGN §2): `/latest` redirects to `/tag/<tag>`, assets
 * are at `/download/<tag>/<asset>`. A real HTTP server, so the client's real network code runs.
 */
export class ReleaseServer {
  readonly releases = new Map<string, string>();
  latest = "";
  faults: Faults = {};
  readonly #sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<ReleaseServer> {
    let instance: ReleaseServer | undefined;
    const server = createServer((request, response) => {
      setTimeout(() => instance?.handle(request.url ?? "/", response), instance?.faults.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    instance = new ReleaseServer(server, `http://127.0.0.1:${port}`);
    return instance;
  }

  private handle(path: string, response: ServerResponse): void {
    if (path === "/latest" || path === "/latest-again") {
      if (this.faults.redirectLoop) redirect(response, path === "/latest" ? "/latest-again" : "/latest");
      else if (this.faults.latestAsText) text(response, 200, `${this.latest}\n`);
      else redirect(response, `/tag/${this.latest}`);
      return;
    }
    const match = /^\/download\/([^/]+)\/([^/]+)$/.exec(path);
    const dir = match === null ? undefined : this.releases.get(decodeURIComponent(match[1] ?? ""));
    const asset = decodeURIComponent(match?.[2] ?? "");
    const status = dir === undefined ? 404 : this.faults.status?.[asset];
    if (dir === undefined || status !== undefined) {
      text(response, status ?? 404, `status ${status ?? 404}`);
      return;
    }
    const file = join(dir, asset);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      text(response, 404, "not found");
      return;
    }
    response.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
    const cut = this.faults.cutAfter?.[asset];
    const stream = createReadStream(file, cut === undefined ? {} : { end: cut - 1 });
    if (cut === undefined) stream.pipe(response);
    else {
      stream.on("data", (chunk) => response.write(chunk));
      stream.on("end", () => response.socket?.destroy());
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(302, { location });
  response.end();
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(body);
}
