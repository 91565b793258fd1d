import { request } from "node:http";
import { createServer, type Server } from "node:https";
import { fileURLToPath } from "node:url";
import { bundleRuntimeSource } from "@ironclaw/sandbox";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { type FixtureState, fixtureServer } from "../../mcp-broker/test/fixtures/mcp-server.js";
import { tarball } from "../../package-store/test/support/tarball.js";

/**
 * The MCP broker's real SDK fixture server, served the two ways an approved server can be: over
 * Streamable HTTP with TLS on 127.0.0.1, and as an npm package whose bin speaks stdio.
 */
const STDIO_MAIN = fileURLToPath(new URL("../../mcp-broker/test/fixtures/stdio-main.ts", import.meta.url));
export const PACKAGE_NAME = "mcp-fixture";
export const PACKAGE_VERSION = "1.0.0";

/** The fixture over Streamable HTTP (stateless: a server per request), recording each tool called. */
export async function httpMcpServer(
  tls: { readonly leafKey: string; readonly leafCert: string },
  state: FixtureState,
): Promise<{ readonly port: number; readonly called: string[]; close(): Promise<void> }> {
  const called: string[] = [];
  const server: Server = createServer({ key: tls.leafKey, cert: tls.leafCert }, (req, response) => {
    const transport = new StreamableHTTPServerTransport({});
    const mcp = fixtureServer(state);
    response.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    // Read here, handed to the SDK parsed: the test records which tools/call reached the server.
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: { method?: string; params?: { name?: string } } | undefined;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {}
      if (body?.method === "tools/call") called.push(String(body.params?.name));
      mcp
        .connect(transport)
        .then(() => transport.handleRequest(req, response, body))
        .catch(() => response.destroy());
    });
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return {
    port: address.port,
    called,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The fixture as an npm tarball: package.json with a bin, the server bundled with the SDK so the
 * unpacked package is all its sandbox needs. Self-made: no published MCP server package exists for us
 * to sign with the local Sigstore.
 */
export async function mcpFixtureTarball(): Promise<Buffer> {
  const server = Buffer.from(await bundleRuntimeSource(STDIO_MAIN));
  return tarball([
    {
      path: "package/package.json",
      data: JSON.stringify({
        name: PACKAGE_NAME,
        version: PACKAGE_VERSION,
        bin: { [PACKAGE_NAME]: "dist/server.mjs" },
      }),
    },
    { path: "package/dist/", type: "5" },
    { path: "package/dist/server.mjs", data: server },
  ]);
}

/** A request on one of the sockets the host gives a sandbox, as the code inside makes it. */
export function asAgent(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  host?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(host === undefined ? {} : { host }),
      ...(data === undefined
        ? {}
        : { "content-type": "application/json", "content-length": Buffer.byteLength(data) }),
    };
    const req = request({ socketPath, method, path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ status: response.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}
