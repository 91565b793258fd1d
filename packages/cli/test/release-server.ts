import { createReadStream, statSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";

/**
 * How one download goes wrong. Each fault is what a broken or hostile server, or a bad network, does;
 * `truncate` announces the whole length and cuts the connection, `stall` sends some bytes and then
 * nothing while keeping the connection open, `drip` sends the file at a steady rate, `endless` never
 * ends (chunked, no length), `huge-length` announces far more than any release and sends endlessly.
 */
export type AssetFault =
  | { readonly kind: "status"; readonly status: number }
  | { readonly kind: "truncate"; readonly afterBytes: number }
  | { readonly kind: "stall"; readonly afterBytes: number }
  | { readonly kind: "drip"; readonly bytesPerSecond: number }
  | { readonly kind: "endless" }
  | { readonly kind: "huge-length" }
  | { readonly kind: "redirect-loop" }
  | { readonly kind: "redirect-chain"; readonly hops: number }
  | { readonly kind: "redirect-http-offhost" }
  | { readonly kind: "redirect-http-loopback" }
  | { readonly kind: "redirect-https-offhost" };

/** What the server does wrong, per test. */
export interface Faults {
  /** Faults of individual assets, by asset name. */
  assets?: Record<string, AssetFault>;
  /** Answer this status for an asset instead of the file (shorthand for a `status` fault). */
  status?: Record<string, number>;
  /** Announce the whole file, send this many bytes, then cut the connection (a `truncate` fault). */
  cutAfter?: Record<string, number>;
  /** Wait this long before answering anything. */
  delayMs?: number;
  /** `/latest` redirects to itself through a second URL, forever. */
  redirectLoop?: boolean;
  /** `/latest` answers the tag as text, as a static mirror does. */
  latestAsText?: boolean;
  /** `/latest` answers 200 with a body that never ends. */
  latestEndless?: boolean;
  /** `/latest` answers with 64 KiB of headers. */
  latestHugeHeaders?: boolean;
  /**
   * `/latest` answers with this status line (after `HTTP/1.1 `) and any header lines after it,
   * written by hand: Node's server refuses the control characters a hostile server may send.
   */
  latestHead?: string;
  /** Serve assets from the release origin itself, as a static mirror does, instead of redirecting. */
  noObjectStorage?: boolean;
}

/** A host name that can never be reached: a redirect there proves the client refused it before dialling. */
export const OFF_HOST = "ironclaw-release-mirror.invalid";

export interface ServedRequest {
  readonly origin: "release" | "objects";
  readonly path: string;
}

export interface ReleaseServerOptions {
  /** Serve both origins over TLS with this key and certificate (for 127.0.0.1). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/**
 * Releases on loopback shaped like GitHub's (DESIGN §2 and §8). The release origin answers `/latest`
 * with a 302 to `/tag/<tag>` and every `/download/<tag>/<asset>` with a 302 to a second origin, the
 * object storage, whose URL carries a one-time name and signed-URL-style query, as GitHub's does.
 * Real HTTP servers, so the client's real network code runs; faults on demand.
 */
export class ReleaseServer {
  readonly releases = new Map<string, string>();
  latest = "";
  faults: Faults = {};
  /** Every request either origin received, in order. */
  readonly served: ServedRequest[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #objects = new Map<string, { tag: string; asset: string }>();
  #nextObject = 1;

  private constructor(
    private readonly release: Server,
    private readonly objects: Server,
    /** The release base URL a client is given, like `https://github.com/<repo>/releases`. */
    readonly url: string,
    /** The object storage's origin, like `https://objects.githubusercontent.com`. */
    readonly objectsUrl: string,
  ) {
    for (const server of [release, objects]) {
      server.on("connection", (socket: Socket) => {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
      });
    }
  }

  static async start(options: ReleaseServerOptions = {}): Promise<ReleaseServer> {
    let instance: ReleaseServer | undefined;
    const handler =
      (origin: "release" | "objects") => (request: IncomingMessage, response: ServerResponse) => {
        const path = request.url ?? "/";
        instance?.served.push({ origin, path });
        setTimeout(() => instance?.handle(origin, path, response), instance?.faults.delayMs ?? 0);
      };
    const make = (origin: "release" | "objects") =>
      options.tls === undefined
        ? createHttpServer({ maxHeaderSize: 16 * 1024 }, handler(origin))
        : createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler(origin));
    const release = make("release");
    const objects = make("objects");
    const scheme = options.tls === undefined ? "http" : "https";
    const listen = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    instance = new ReleaseServer(release, objects, await listen(release), await listen(objects));
    return instance;
  }

  /** Requests for one asset's bytes (on either origin), for asserting what a client fetched. */
  downloadsOf(asset: string): ServedRequest[] {
    return this.served.filter(
      (r) =>
        r.path.endsWith(`/${encodeURIComponent(asset)}`) ||
        r.path.includes(`name=${encodeURIComponent(asset)}&`),
    );
  }

  private handle(origin: "release" | "objects", path: string, response: ServerResponse): void {
    if (origin === "objects") {
      this.serveObject(path, response);
      return;
    }
    if (path === "/latest" || path === "/latest-again") {
      this.serveLatest(path, response);
      return;
    }
    const match = /^\/download\/([^/]+)\/([^/?]+)$/.exec(path);
    if (match === null) {
      text(response, 404, "Not Found");
      return;
    }
    const tag = decodeURIComponent(match[1] ?? "");
    const asset = decodeURIComponent(match[2] ?? "");
    if (!this.releases.has(tag) || this.fileOf(tag, asset) === undefined) {
      text(response, 404, "Not Found");
      return;
    }
    const fault = this.faultOf(asset);
    if (fault?.kind === "status") {
      text(response, fault.status, `status ${fault.status}`);
      return;
    }
    if (fault?.kind.startsWith("redirect-")) {
      this.redirectFault(fault, tag, asset, response);
      return;
    }
    if (this.faults.noObjectStorage === true) {
      this.serveFile(tag, asset, response);
      return;
    }
    redirect(response, this.objectUrl(tag, asset));
  }

  private serveLatest(path: string, response: ServerResponse): void {
    if (this.faults.redirectLoop) redirect(response, path === "/latest" ? "/latest-again" : "/latest");
    else if (this.faults.latestEndless) endless(response, { "content-type": "text/plain" });
    else if (this.faults.latestHugeHeaders) {
      // Node's server would refuse to write these through writeHead's checks only past its own limit,
      // so write the head by hand: what a hostile server can send.
      const filler = "x".repeat(1000);
      const lines = Array.from({ length: 64 }, (_, i) => `x-filler-${i}: ${filler}`).join("\r\n");
      response.socket?.write(`HTTP/1.1 200 OK\r\n${lines}\r\ncontent-length: 7\r\n\r\nv9.9.9\n`);
      response.socket?.end();
    } else if (this.faults.latestHead !== undefined) {
      response.socket?.write(`HTTP/1.1 ${this.faults.latestHead}\r\ncontent-length: 0\r\n\r\n`);
      response.socket?.end();
    } else if (this.faults.latestAsText) text(response, 200, `${this.latest}\n`);
    else redirect(response, `/tag/${this.latest}`);
  }

  private redirectFault(fault: AssetFault, tag: string, asset: string, response: ServerResponse): void {
    const download = `/download/${encodeURIComponent(tag)}/${encodeURIComponent(asset)}`;
    switch (fault.kind) {
      case "redirect-loop":
        redirect(response, download);
        return;
      case "redirect-chain": {
        // Each hop goes to the object storage, which sends the client back, `hops` times in all.
        redirect(response, `${this.objectsUrl}/hop/${fault.hops - 1}${download}`);
        return;
      }
      case "redirect-http-offhost":
        redirect(response, `http://${OFF_HOST}${download}`);
        return;
      case "redirect-https-offhost":
        redirect(response, `https://${OFF_HOST}${download}`);
        return;
      case "redirect-http-loopback":
        redirect(response, this.objectUrl(tag, asset).replace(/^https:/, "http:"));
        return;
      default:
        text(response, 500, "bad fault");
    }
  }

  private serveObject(path: string, response: ServerResponse): void {
    const hop = /^\/hop\/(\d+)(\/download\/.*)$/.exec(path);
    if (hop !== null) {
      const left = Number(hop[1]);
      redirect(response, left <= 0 ? this.objectUrlFor(hop[2] ?? "") : `/hop/${left - 1}${hop[2]}`);
      return;
    }
    const match = /^\/github-production-release-asset\/(\d+)\?/.exec(path);
    const object = match === null ? undefined : this.#objects.get(match[1] ?? "");
    if (object === undefined) {
      text(response, 403, "<Error><Code>AccessDenied</Code></Error>");
      return;
    }
    this.serveFile(object.tag, object.asset, response);
  }

  private objectUrlFor(downloadPath: string): string {
    const match = /^\/download\/([^/]+)\/([^/?]+)$/.exec(downloadPath);
    return this.objectUrl(decodeURIComponent(match?.[1] ?? ""), decodeURIComponent(match?.[2] ?? ""));
  }

  /** A fresh signed-looking URL on the object storage, valid for this one asset, like GitHub's. */
  private objectUrl(tag: string, asset: string): string {
    const id = String(this.#nextObject++);
    this.#objects.set(id, { tag, asset });
    const query = new URLSearchParams({
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Expires": "300",
      "X-Amz-Signature": "0".repeat(64),
      name: asset,
      "response-content-disposition": `attachment; filename=${asset}`,
      "response-content-type": "application/octet-stream",
    });
    // URLSearchParams keeps insertion order, so `name=<asset>&` stands in every URL for downloadsOf.
    return `${this.objectsUrl}/github-production-release-asset/${id}?${query}`;
  }

  private fileOf(tag: string, asset: string): { path: string; size: number } | undefined {
    const dir = this.releases.get(tag);
    if (dir === undefined || asset.includes("/") || asset.startsWith(".")) return undefined;
    const path = join(dir, asset);
    try {
      return { path, size: statSync(path).size };
    } catch {
      return undefined;
    }
  }

  private faultOf(asset: string): AssetFault | undefined {
    const status = this.faults.status?.[asset];
    if (status !== undefined) return { kind: "status", status };
    const cut = this.faults.cutAfter?.[asset];
    if (cut !== undefined) return { kind: "truncate", afterBytes: cut };
    return Object.hasOwn(this.faults.assets ?? {}, asset) ? this.faults.assets?.[asset] : undefined;
  }

  private serveFile(tag: string, asset: string, response: ServerResponse): void {
    const file = this.fileOf(tag, asset);
    if (file === undefined) {
      text(response, 404, "Not Found");
      return;
    }
    const fault = this.faultOf(asset);
    const head = { "content-type": "application/octet-stream", "content-length": String(file.size) };
    switch (fault?.kind) {
      case "endless":
        endless(response, { "content-type": "application/octet-stream" });
        return;
      case "huge-length":
        endless(response, { ...head, "content-length": String(2 ** 40) });
        return;
      case "truncate":
      case "stall": {
        response.writeHead(200, head);
        const stream = createReadStream(file.path, { end: fault.afterBytes - 1 });
        stream.on("data", (chunk) => response.write(chunk));
        // A cut closes the connection; a stall keeps it open with nothing more to come.
        if (fault.kind === "truncate") stream.on("end", () => response.socket?.destroy());
        return;
      }
      case "drip":
        response.writeHead(200, head);
        drip(createReadStream(file.path, { highWaterMark: 64 * 1024 }), response, fault.bytesPerSecond);
        return;
      default:
        response.writeHead(200, head);
        createReadStream(file.path).pipe(response);
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(
      [this.release, this.objects].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(302, { location, "content-type": "text/html; charset=utf-8" });
  response.end(`<html><body>You are being <a href="${location}">redirected</a>.</body></html>`);
}

function text(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "content-type": "text/plain" });
  response.end(body);
}

/** Zeros until the client goes away: 64 KiB whenever the socket can take more. */
function endless(response: ServerResponse, headers: Record<string, string>): void {
  response.writeHead(200, headers);
  const chunk = Buffer.alloc(64 * 1024);
  const pump = () => {
    while (!response.destroyed && response.write(chunk)) {
      /* keep writing while the socket's buffer has room */
    }
  };
  response.on("drain", pump);
  pump();
}

/** The file at a steady rate, in ten slices a second. */
function drip(source: NodeJS.ReadableStream, response: ServerResponse, bytesPerSecond: number): void {
  const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
  let pending = Buffer.alloc(0);
  let ended = false;
  source.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (pending.length > slice * 20) source.pause();
  });
  source.on("end", () => {
    ended = true;
  });
  const timer = setInterval(() => {
    if (response.destroyed) {
      clearInterval(timer);
      return;
    }
    const out = pending.subarray(0, slice);
    pending = pending.subarray(out.length);
    if (out.length > 0) response.write(out);
    if (pending.length < slice * 10) source.resume();
    if (ended && pending.length === 0) {
      clearInterval(timer);
      response.end();
    }
  }, 100);
}
