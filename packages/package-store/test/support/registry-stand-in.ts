import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One version as the stand-in serves it. */
export interface ServedVersion {
  readonly name: string;
  readonly version: string;
  readonly tarball: Buffer;
  /** The bundles of npm's attestations document; absent: published without attestations. */
  readonly attestations?: readonly { readonly predicateType: string; readonly bundle: unknown }[];
  /** Overrides of the version document's dist (a lying integrity, a tarball elsewhere). */
  readonly dist?: Record<string, unknown>;
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
}

/**
 * npm's registry in miniature, on loopback: `/<name>/<version>` (the version document, `@scope%2fname`
 * for scoped names), `/<name>/-/<base>-<version>.tgz` (the tarball), and
 * `/-/npm/v1/attestations/<name>@<version>` (npm's attestations document). `override` replaces any
 * path's answer with a hostile one; every request is counted.
 */
export class RegistryStandIn {
  readonly requests: string[] = [];
  readonly #server: Server;
  readonly #versions = new Map<string, ServedVersion>();
  readonly #overrides = new Map<string, Handler>();
  readonly #sockets = new Set<import("node:net").Socket>();

  private constructor(server: Server) {
    this.#server = server;
    server.on("connection", (socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<RegistryStandIn> {
    const server = createServer();
    const standIn = new RegistryStandIn(server);
    server.on("request", (request, response) => standIn.#handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
  }

  add(version: ServedVersion): void {
    this.#versions.set(`${version.name}@${version.version}`, version);
  }

  override(path: string, handler: Handler): void {
    this.#overrides.set(path, handler);
  }

  /** Answers `path` as npm would again. */
  restore(path: string): void {
    this.#overrides.delete(path);
  }

  tarballPath(name: string, version: string): string {
    const base = name.includes("/") ? name.slice(name.indexOf("/") + 1) : name;
    return `/${name}/-/${base}-${version}.tgz`;
  }

  attestationsPath(name: string, version: string): string {
    return `/-/npm/v1/attestations/${name}@${version}`;
  }

  versionPath(name: string, version: string): string {
    return `/${name.replace("/", "%2f")}/${version}`;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? "/";
    this.requests.push(path);
    const override = this.#overrides.get(path);
    if (override !== undefined) {
      override(request, response);
      return;
    }
    for (const served of this.#versions.values()) {
      const { name, version } = served;
      if (path === this.versionPath(name, version)) {
        this.#json(response, this.#document(served));
        return;
      }
      if (path === this.tarballPath(name, version)) {
        response.writeHead(200, { "content-type": "application/octet-stream" });
        response.end(served.tarball);
        return;
      }
      if (path === this.attestationsPath(name, version) && served.attestations !== undefined) {
        this.#json(response, { attestations: served.attestations });
        return;
      }
    }
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: "Not found" }));
  }

  #document(served: ServedVersion): unknown {
    const { name, version } = served;
    return {
      name,
      version,
      _id: `${name}@${version}`,
      dist: {
        integrity: integrityOf(served.tarball),
        shasum: createHash("sha1").update(served.tarball).digest("hex"),
        tarball: new URL(this.tarballPath(name, version).slice(1), this.url).href,
        ...(served.attestations === undefined
          ? {}
          : {
              attestations: {
                url: new URL(this.attestationsPath(name, version).slice(1), this.url).href,
                provenance: { predicateType: "https://slsa.dev/provenance/v1" },
              },
            }),
        ...served.dist,
      },
    };
  }

  #json(response: ServerResponse, value: unknown): void {
    const body = Buffer.from(JSON.stringify(value));
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
