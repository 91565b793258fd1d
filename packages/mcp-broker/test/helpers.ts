import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { build } from "esbuild";
import { afterEach } from "vitest";
import {
  type McpAuditEvent,
  type McpBrokerOptions,
  type McpServerApproval,
  startMcpBroker,
  toolDigest,
} from "../src/index.js";
import { type FixtureState, fixtureServer } from "./fixtures/mcp-server.js";

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_PACKAGE = "mcp-fixture@1.0.0";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
export const onCleanup = (cleanup: () => Promise<void>) => cleanups.push(cleanup);

export async function tempDir(prefix = "ironclaw-mcp-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const digestOf = (tool: Tool): string => toolDigest(tool);
export const approve = (tool: Tool) => ({ name: tool.name, digest: digestOf(tool) });

/**
 * The fixture server as an unpacked npm package would be: package.json with a bin, the code bundled
 * with its dependencies (the SDK) so the package directory is all the sandbox needs.
 */
export async function fixturePackage(): Promise<string> {
  const dir = await tempDir("ironclaw-mcp-package-");
  await mkdir(join(dir, "dist"));
  await build({
    entryPoints: [join(here, "fixtures", "stdio-main.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: join(dir, "dist", "server.cjs"),
    logLevel: "silent",
  });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "mcp-fixture", version: "1.0.0", bin: { "mcp-fixture": "dist/server.cjs" } }),
  );
  return dir;
}

/** The fixture over Streamable HTTP (stateless: a server per request) on 127.0.0.1, with TLS. */
export async function httpFixture(
  key: string,
  cert: string,
  state: FixtureState,
): Promise<{ port: number; requests: string[] }> {
  const requests: string[] = [];
  const server: Server = createServer({ key, cert }, (request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method} ${request.url} ${request.headers.host}`);
    // Stateless (no session id) and answering in an event stream, the SDK's default.
    const transport = new StreamableHTTPServerTransport({});
    const mcp = fixtureServer(state);
    response.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    mcp
      .connect(transport)
      .then(() => transport.handleRequest(request, response))
      .catch(() => response.destroy());
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return { port: address.port, requests };
}

/** A broker over fixed approvals, recording its audit events. */
export function brokerFor(
  servers: McpServerApproval[],
  extra: Partial<McpBrokerOptions> = {},
): { broker: ReturnType<typeof startMcpBroker>; events: McpAuditEvent[]; servers: McpServerApproval[] } {
  const events: McpAuditEvent[] = [];
  const broker = startMcpBroker({
    servers: (agent) => (agent === "alpha" ? servers : []),
    audit: (event) => events.push(event),
    ...extra,
  });
  onCleanup(() => broker.close());
  return { broker, events, servers };
}
