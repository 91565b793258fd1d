import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ControlPlane, startControlPlane } from "@ironclaw/gateway";
import { bundleRuntime, sandboxSupport } from "@ironclaw/sandbox";
import { loopbackTls } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { AgentSupervisor } from "../src/runtime/supervisor.js";

// The upstream the agent fetches from serves TLS with a certificate made by openssl.
const haveOpenssl = haveSystemTools("the agent demo (TLS upstream)", ["openssl"]);

/**
 * The demo, end to end: the scripted agent runs sealed in bubblewrap; it asks for http_fetch and for
 * one host, and both are HELD; after an operator approves them, its next fetch goes through the egress
 * broker to an HTTPS server on loopback (approved by exact IP) and is audited; a host nobody approved is
 * refused by the broker and audited.
 */
const AGENT_ENTRY = fileURLToPath(new URL("../../sandbox/src/agent/main.ts", import.meta.url));

let work: string;
let plane: ControlPlane;
let supervisor: AgentSupervisor;
let upstream: Server;
let upstreamPort: number;
let operatorToken: string;
const seen: string[] = [];

async function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${operatorToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Waits until the agent has said something matching, and returns it. */
async function agentSays(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { messages } = (await api("GET", "/v1/agents/demo/messages?direction=out")) as {
      messages: { text: string }[];
    };
    const found = messages.map((m) => m.text).find((text) => pattern.test(text));
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { messages } = (await api("GET", "/v1/agents/demo/messages?direction=out")) as {
    messages: { text: string }[];
  };
  throw new Error(`the agent never said ${pattern}; it said: ${messages.map((m) => m.text).join(" | ")}`);
}

async function approveAllPending(): Promise<string[]> {
  const { changes } = (await api("GET", "/v1/changes?state=pending")) as {
    changes: { id: string; digest: string }[];
  };
  for (const change of changes)
    await api("POST", `/v1/changes/${change.id}/approve`, { digest: change.digest });
  return changes.map((c) => c.id);
}

async function audit(): Promise<Record<string, unknown>[]> {
  return (await api("GET", "/v1/audit?after=0&limit=1000")).records as Record<string, unknown>[];
}

beforeAll(async () => {
  const support = await sandboxSupport();
  if (!support.ok) throw new Error(`bubblewrap cannot run here: ${support.reason ?? "unknown"}`);
  work = await mkdtemp(join(tmpdir(), "ironclaw-demo-"));
  const tls = await loopbackTls();
  upstream = createServer({ key: tls.leafKey, cert: tls.leafCert }, (request, response) => {
    seen.push(`${request.method} ${request.url}`);
    response.writeHead(200, { "content-type": "text/plain" }).end("hello from upstream");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  upstreamPort = (upstream.address() as { port: number }).port;
  const runtimeDir = join(work, "runtime");
  await bundleRuntime({ entry: AGENT_ENTRY, outDir: runtimeDir, outName: "agent.mjs" });
  const stateDir = join(work, "state");
  plane = await startControlPlane({ stateDir, dev: true, listen: "127.0.0.1:0" });
  operatorToken = (await readFile(join(stateDir, "tokens", "operator.token"), "utf8")).trim();
  supervisor = new AgentSupervisor({
    stateDir,
    gateway: plane.gateway,
    runtimeDir,
    entry: "agent.mjs",
    egressCa: [tls.caCert],
  });
  await supervisor.start();
}, 120_000);

afterAll(async () => {
  await supervisor?.close();
  await plane?.close();
  upstream?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skipRealSandbox)(
  "the demo: a sealed agent asks, a human approves, the broker carries it",
  () => {
    it("holds the agent's requests, then fetches through the broker once they are approved, auditing each request", async () => {
      const created = (await api("POST", "/v1/changes", {
        kind: "create_agent",
        payload: { agent: "demo" },
      })) as {
        change: { id: string; digest: string };
      };
      await api("POST", `/v1/changes/${created.change.id}/approve`, { digest: created.change.digest });
      await agentSays(/^ready$/);
      expect(supervisor.status("demo")).toBe("running in its sandbox");
      expect(supervisor.status("nobody")).toBe("not running");

      const url = `https://127.0.0.1:${upstreamPort}/report`;
      await api("POST", "/v1/agents/demo/messages", {
        text: JSON.stringify({ tool: "http_fetch", input: { url } }),
      });
      await agentSays(/requested egress as c\d+: HELD/);
      const registry = (await api("GET", "/v1/registry/agents/demo")).agent as {
        tools: string[];
        egress: unknown[];
      };
      expect(registry).toMatchObject({ tools: [], egress: [] });
      expect(seen).toEqual([]);

      const approved = await approveAllPending();
      expect(approved).toHaveLength(2);
      expect(await agentSays(/^http_fetch (ok|failed)/)).toBe("http_fetch ok: 200 hello from upstream");
      expect(seen).toEqual(["GET /report"]);
      expect(supervisor.status("demo")).toBe("running in its sandbox, egress broker open");
      const allowed = (await audit()).filter((r) => r.type === "egress.request" && r.decision === "allowed");
      expect(allowed).toEqual([
        expect.objectContaining({
          agent: "demo",
          method: "GET",
          host: "127.0.0.1",
          port: upstreamPort,
          status: 200,
          reason: "ok",
        }),
      ]);
    }, 60_000);

    it("has the broker refuse, and audit, a host nobody approved", async () => {
      await api("POST", "/v1/agents/demo/messages", {
        text: JSON.stringify({
          tool: "http_fetch",
          input: { url: "https://exfiltrate.example.com/steal" },
          ask: false,
        }),
      });
      expect(await agentSays(/http_fetch failed/)).toMatch(/^http_fetch failed: 403/);
      await api("POST", "/v1/agents/demo/messages", {
        text: JSON.stringify({ tool: "http_fetch", input: { url: "https://203.0.113.7/steal" }, ask: false }),
      });
      await agentSays(/http_fetch failed: 403 .*203\.0\.113\.7/);
      const denied = (await audit()).filter((r) => r.type === "egress.request" && r.decision === "denied");
      expect(denied).toEqual([
        expect.objectContaining({
          agent: "demo",
          host: "exfiltrate.example.com",
          path: "/steal",
          reason: "not_on_allowlist",
        }),
        expect.objectContaining({ agent: "demo", host: "203.0.113.7", reason: "ip_literal_not_approved" }),
      ]);
      expect(seen).toEqual(["GET /report"]);
    }, 60_000);
  },
);
