import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ControlPlane, startControlPlane } from "@ironclaw/gateway";
import { type McpBroker, toolDigest } from "@ironclaw/mcp-broker";
import { loadModelProviders, type ProviderCall } from "@ironclaw/model-proxy";
import { PackageStore, packageChecker, packageDir } from "@ironclaw/package-store";
import { bundleRuntime } from "@ironclaw/sandbox";
import { LocalSigstore, loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import {
  ECHO,
  ECHO_PULLED,
  type FixtureState,
  fixtureState,
  PROBE_NET,
  UNAPPROVED,
} from "../../mcp-broker/test/fixtures/mcp-server.js";
import { signNpmProvenance, trustedRootOf } from "../../package-store/test/support/npm-provenance.js";
import { integrityOf, RegistryStandIn } from "../../package-store/test/support/registry-stand-in.js";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { startHostMcpBroker } from "../src/runtime/mcp.js";
import { ledgerFromLog } from "../src/runtime/model-channel.js";
import { AgentSupervisor } from "../src/runtime/supervisor.js";
import {
  asAgent,
  httpMcpServer,
  mcpFixtureTarball,
  PACKAGE_NAME,
  PACKAGE_VERSION,
} from "./agent-mcp-fixtures.js";
import { agentSaid, agentSays as agentSaysOf, operatorCall } from "./operator-api.js";

/**
 * Issue 19's MCP path end to end: an AI agent sealed in bubblewrap, thinking with a scripted mock
 * model, uses a real SDK MCP server over Streamable HTTP (TLS on 127.0.0.1) and the same server as an
 * npm package verified by its provenance and run over stdio in its own sandbox. Everything goes agent
 * → agent API → the host's MCP broker → server; the agent sees only tools an `mcp_servers` change
 * pinned by digest.
 */
const AGENT_ENTRY = fileURLToPath(new URL("../../sandbox/src/agent/main.ts", import.meta.url));
const skipTls = !haveSystemTools("the agent's MCP servers (TLS upstream)", ["openssl"]);
const AGENT = "mcpdemo";
const REPOSITORY = "acme/mcp-fixture";

let work: string;
let plane: ControlPlane;
let supervisor: AgentSupervisor;
let broker: McpBroker;
let sigstore: LocalSigstore;
let registry: RegistryStandIn;
let http: Awaited<ReturnType<typeof httpMcpServer>>;
let listener: TcpServer;
let listenerConnections = 0;
let operatorToken: string;
let integrity: string;
const httpState: FixtureState = fixtureState();
/** Every request the model provider was handed: what the model saw, tools included. */
const modelSaw: ProviderCall[] = [];

function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  return operatorCall(plane.url, operatorToken, method, path, body);
}

const said = () => agentSaid(plane.url, operatorToken, AGENT);
const agentSays = (pattern: RegExp, since = 0) =>
  agentSaysOf(plane.url, operatorToken, AGENT, pattern, { since });

/** Sends the operator's message and waits for the agent's answer to it. */
async function ask(text: string): Promise<string> {
  const before = (await said()).length;
  const seen = modelSaw.length;
  await api("POST", `/v1/agents/${AGENT}/messages`, { text });
  const answer = await agentSays(/^(Result|Answer):/, before);
  lastCalls = modelSaw.slice(seen);
  return answer;
}
let lastCalls: ProviderCall[] = [];
const offered = (calls: ProviderCall[]) => [...new Set(calls.flatMap((c) => c.tools.map((t) => t.name)))];

async function approve(kind: string, payload: Record<string, unknown>): Promise<void> {
  const { change, refusal } = (await api("POST", "/v1/changes", { kind, payload })) as {
    change: { id: string; digest: string };
    refusal?: unknown;
  };
  expect(refusal).toBeUndefined();
  await api("POST", `/v1/changes/${change.id}/approve`, { digest: change.digest });
}

async function mcpAudit(): Promise<Record<string, unknown>[]> {
  const { records } = (await api("GET", "/v1/audit?after=0&limit=1000")) as {
    records: Record<string, unknown>[];
  };
  return records.filter((r) => r.type === "mcp.call");
}

const pinned = (tool: { name: string }) => ({ name: tool.name, digest: toolDigest(tool as never) });

function servers(stdio: Record<string, unknown> = {}, webEcho: typeof ECHO = ECHO) {
  return {
    agent: AGENT,
    servers: [
      {
        name: "web",
        transport: { type: "http", url: `https://127.0.0.1:${http.port}/mcp`, ipLiteral: true },
        tools: [pinned(webEcho)],
      },
      {
        name: "local",
        transport: {
          type: "stdio",
          package: `${PACKAGE_NAME}@${PACKAGE_VERSION}`,
          command: PACKAGE_NAME,
          ...stdio,
        },
        tools: [pinned(ECHO), pinned(PROBE_NET)],
      },
    ],
  };
}

beforeAll(async () => {
  if (skipRealSandbox || skipTls) return;
  work = await mkdtemp(join(tmpdir(), "ironclaw-agent-mcp-"));
  const tls = await loopbackTls();
  http = await httpMcpServer(tls, httpState);
  // A port the host listens on, that a server without network must not reach.
  listener = createTcpServer((socket) => {
    listenerConnections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const probePort = (listener.address() as { port: number }).port;

  // npm's registry on loopback, serving the fixture as a package with provenance the local Sigstore signed.
  sigstore = await LocalSigstore.start();
  registry = await RegistryStandIn.start();
  const tgz = await mcpFixtureTarball();
  integrity = integrityOf(tgz);
  registry.add({
    name: PACKAGE_NAME,
    version: PACKAGE_VERSION,
    tarball: tgz,
    attestations: [
      await signNpmProvenance(sigstore, {
        name: PACKAGE_NAME,
        version: PACKAGE_VERSION,
        tarball: tgz,
        repository: REPOSITORY,
      }),
    ],
  });

  const runtimeDir = join(work, "runtime");
  await bundleRuntime({ entry: AGENT_ENTRY, outDir: runtimeDir, outName: "agent.mjs" });
  const stateDir = join(work, "state");
  const providersFile = join(work, "model-providers.json");
  const call = (name: string, input: Record<string, unknown>) => ({ toolCalls: [{ name, input }] });
  await writeFile(
    providersFile,
    JSON.stringify({
      providers: [
        {
          name: "scripted",
          type: "mock",
          rules: [
            {
              when: { lastUserContains: "echo over http" },
              reply: call("mcp__web__echo", { text: "via http" }),
            },
            {
              when: { lastUserContains: "echo over stdio" },
              reply: call("mcp__local__echo", { text: "via stdio" }),
            },
            {
              when: { lastUserContains: "delete" },
              reply: call(`mcp__web__${UNAPPROVED.name}`, {}),
            },
            {
              when: { lastUserContains: "probe" },
              reply: call("mcp__local__probe_net", { port: probePort }),
            },
            { when: { lastUserContains: "tools" }, reply: { text: "Answer: these are my tools" } },
            // After any tool result: say what the tool said.
            { when: {}, reply: { text: "Result: {{lastToolOutput}}" } },
          ],
        },
      ],
    }),
  );
  const loaded = await loadModelProviders({ stateDir, file: providersFile, env: {} });
  // The real providers, each call recorded on its way in: the test reads what the model was offered.
  const providers = new Map(
    [...loaded].map(([name, provider]) => [
      name,
      {
        ...provider,
        complete: (request: ProviderCall, options?: Parameters<typeof provider.complete>[1]) => {
          modelSaw.push(request);
          return provider.complete(request, options);
        },
      },
    ]),
  );
  const store = new PackageStore({ stateDir, registry: registry.url, trustedRoot: trustedRootOf(sigstore) });
  plane = await startControlPlane({
    stateDir,
    dev: true,
    listen: "127.0.0.1:0",
    modelProviders: providers,
    packages: packageChecker(store),
  });
  operatorToken = (await readFile(join(stateDir, "tokens", "operator.token"), "utf8")).trim();
  broker = startHostMcpBroker({ stateDir, gateway: plane.gateway, ca: [tls.caCert] });
  supervisor = new AgentSupervisor({
    stateDir,
    gateway: plane.gateway,
    runtimeDir,
    entry: "agent.mjs",
    model: { providers, ledger: await ledgerFromLog(plane.gateway) },
    mcp: broker,
  });
  await supervisor.start();
}, 180_000);

afterAll(async () => {
  await supervisor?.close();
  await broker?.close();
  await plane?.close();
  await http?.close();
  listener?.close();
  await registry?.stop();
  await sigstore?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skipRealSandbox || skipTls)(
  "an agent in its sandbox uses approved MCP servers through the host's broker",
  () => {
    const agentSocket = () => join(supervisor.agentDir(AGENT), "run", "agent.sock");

    it("offers no MCP tool before an mcp_servers change, then the approved tools only", async () => {
      await approve("create_agent", { agent: AGENT });
      await agentSays(/^ready$/);
      await approve("model", {
        agent: AGENT,
        action: "set",
        provider: "scripted",
        model: "scripted-1",
        maxOutputTokens: 1024,
        dailyTokens: 1_000_000,
      });
      await supervisor.settled();
      expect(await ask("which tools do you have?")).toBe("Answer: these are my tools");
      expect(offered(lastCalls).filter((name) => name.startsWith("mcp__"))).toEqual([]);

      // The package first: the gateway's edge fetches it, checks integrity and provenance, and stores it.
      const pkg = {
        name: PACKAGE_NAME,
        version: PACKAGE_VERSION,
        integrity,
        repository: `github.com/${REPOSITORY}`,
      };
      await approve("packages", { agent: AGENT, packages: [pkg] });
      // Fetched, its provenance read and verified, before any human saw the change.
      expect(registry.requests).toEqual(
        expect.arrayContaining([
          `/${PACKAGE_NAME}/${PACKAGE_VERSION}`,
          `/-/npm/v1/attestations/${PACKAGE_NAME}@${PACKAGE_VERSION}`,
        ]),
      );
      await readFile(join(packageDir(join(work, "state"), integrity), "package.json"));
      await approve("mcp_servers", servers());

      expect(await ask("which tools do you have?")).toBe("Answer: these are my tools");
      const mcp = offered(lastCalls).filter((name) => name.startsWith("mcp__"));
      // The server offers a dozen tools; the model is shown the three the change pinned, never the rest.
      expect(mcp.sort()).toEqual(["mcp__local__echo", "mcp__local__probe_net", "mcp__web__echo"]);
      const listed = await asAgent(agentSocket(), "GET", "/v1/tools/mcp");
      expect((listed.body.tools as { name: string }[]).map((t) => t.name).sort()).toEqual(mcp.sort());
    }, 90_000);

    it("calls the server over Streamable HTTP (TLS, IP literal approved) and gets its result", async () => {
      expect(await ask("echo over http")).toBe("Result: echo: via http");
      expect(http.called).toEqual(["echo"]);
    }, 60_000);

    it("calls the verified package's server over stdio in its own sandbox", async () => {
      expect(await ask("echo over stdio")).toBe("Result: echo: via stdio");
    }, 60_000);

    it("refuses a tool the server offers but no change approved, from the model and from the API alike", async () => {
      const answer = await ask("delete everything");
      expect(answer).toMatch(/^Result: the tool mcp__web__delete_everything is not enabled for you/);
      // Straight at the agent API, as a hostile runtime would: the broker refuses it and audits it.
      const direct = await asAgent(agentSocket(), "POST", "/v1/tools/mcp/call", {
        name: "mcp__web__delete_everything",
        arguments: {},
      });
      expect(direct).toMatchObject({ status: 200, body: { ok: false, code: "IC_MCP_UNKNOWN_TOOL" } });
      expect(http.called).not.toContain("delete_everything");
    }, 60_000);

    it("refuses a rug-pulled tool: no longer offered, and refused when called anyway", async () => {
      httpState.rugPulled = true;
      const answer = await ask("echo over http");
      expect(answer).toMatch(/^Result: the tool mcp__web__echo is not enabled for you/);
      expect(offered(lastCalls)).not.toContain("mcp__web__echo");
      expect(offered(lastCalls)).toContain("mcp__local__echo");
      const direct = await asAgent(agentSocket(), "POST", "/v1/tools/mcp/call", {
        name: "mcp__web__echo",
        arguments: { text: "pulled" },
      });
      expect(direct.body).toMatchObject({ ok: false, code: "IC_MCP_DIGEST_MISMATCH" });
      expect(String(direct.body.output)).toContain(toolDigest(ECHO_PULLED));
      expect(http.called).toEqual(["echo"]);
      // Only a new change pinning the new face brings it back, after a human has read it.
      await approve("mcp_servers", servers({}, ECHO_PULLED));
      expect(await ask("echo over http")).toBe("Result: echo: via http");
      expect(http.called).toEqual(["echo", "echo"]);
      httpState.rugPulled = false;
    }, 60_000);

    it("gives the stdio server no network: it reaches neither the host's loopback nor an egress socket", async () => {
      const answer = await ask("probe the network");
      expect(JSON.parse(answer.slice("Result: ".length))).toEqual({
        tcp: "ECONNREFUSED",
        egressSocket: "ENOENT",
      });
      expect(listenerConnections).toBe(0);
    }, 60_000);

    it("gives a stdio server approved with network only an egress broker of its own, never the host's network", async () => {
      await approve("mcp_servers", servers({ network: true }));
      const answer = await ask("probe the network");
      expect(JSON.parse(answer.slice("Result: ".length))).toEqual({
        tcp: "ECONNREFUSED",
        egressSocket: "connected",
      });
      expect(listenerConnections).toBe(0);
      // Its broker lets through only what the agent may reach: nothing yet, then the approved host.
      const socket = join(supervisor.agentDir(AGENT), "mcp-egress", "local", "egress.sock");
      const target = `https://127.0.0.1:${http.port}/mcp`;
      const host = `127.0.0.1:${http.port}`;
      expect((await asAgent(socket, "GET", target, undefined, host)).status).toBe(403);
      await approve("egress", {
        agent: AGENT,
        action: "allow",
        host: "127.0.0.1",
        port: http.port,
        ipLiteral: true,
      });
      const through = await asAgent(socket, "GET", target, undefined, host);
      // The MCP server's own answer to a bare GET: the request went through to it.
      expect(through).toMatchObject({ status: 406, body: { jsonrpc: "2.0" } });
      const egress = (await api("GET", "/v1/audit?after=0&limit=1000")).records as Record<string, unknown>[];
      expect(egress.filter((r) => r.type === "egress.request").map((r) => [r.mcpServer, r.decision])).toEqual(
        [
          ["local", "denied"],
          ["local", "allowed"],
        ],
      );
      // Network revoked by a new change: the server is restarted without it, its broker closed.
      await approve("mcp_servers", servers());
      const after = await ask("probe the network");
      expect(JSON.parse(after.slice("Result: ".length))).toEqual({
        tcp: "ECONNREFUSED",
        egressSocket: "ENOENT",
      });
      expect(existsSync(socket)).toBe(false);
    }, 60_000);

    it("audits every call as mcp.call, with the digest of the arguments and never the arguments", async () => {
      const records = await mcpAudit();
      expect(records.map((r) => [r.agent, r.server, r.tool, r.decision, r.reason])).toEqual([
        [AGENT, "web", "echo", "allowed", "ok"],
        [AGENT, "local", "echo", "allowed", "ok"],
        [AGENT, "", "mcp__web__delete_everything", "refused", "IC_MCP_UNKNOWN_TOOL"],
        [AGENT, "web", "echo", "refused", "IC_MCP_DIGEST_MISMATCH"],
        [AGENT, "web", "echo", "allowed", "ok"],
        [AGENT, "local", "probe_net", "allowed", "ok"],
        [AGENT, "local", "probe_net", "allowed", "ok"],
        [AGENT, "local", "probe_net", "allowed", "ok"],
      ]);
      for (const record of records) {
        expect(record.argumentsDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(Object.keys(record)).not.toContain("arguments");
        expect(JSON.stringify(record)).not.toMatch(/via http|via stdio|pulled/);
      }
    }, 30_000);
  },
);
