import { request } from "node:http";
import { join } from "node:path";
import { agentNamed, Gateway, type Principal, startAgentApi } from "@ironclaw/gateway";
import { type LoopbackTls, loopbackTls } from "@ironclaw/sigstore-local";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import { type McpAuditEvent, startMcpBroker } from "../src/index.js";
import { ECHO, ECHO_PULLED, fixtureState } from "./fixtures/mcp-server.js";
import { approve, httpFixture, onCleanup, tempDir } from "./helpers.js";

const OPERATOR: Principal = { id: "operator", role: "operator" };
const haveOpenssl = haveSystemTools("MCP broker behind the agent API", ["openssl"]);
let pki: LoopbackTls;
beforeAll(async () => {
  if (haveOpenssl) pki = await loopbackTls();
});
beforeEach((context) => {
  if (!haveOpenssl) context.skip();
});

function ask(socketPath: string, method: string, path: string, body?: unknown) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers =
      data === undefined
        ? {}
        : { "content-type": "application/json", "content-length": Buffer.byteLength(data) };
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on("end", () => resolve(JSON.parse(text) as Record<string, unknown>));
    });
    req.on("error", reject);
    req.end(data);
  });
}

async function approved(gateway: Gateway, principal: Principal, kind: string, payload: unknown) {
  const { change, refusal } = await gateway.submit(principal, { kind, payload });
  expect(refusal).toBeUndefined();
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
}

describe("an agent reaches an MCP server only through its agent API and the broker", () => {
  it("sees and calls what the operator approved in the registry, loses a rug-pulled tool, and gets it back by a new approval", async () => {
    const dir = await tempDir();
    const state = fixtureState();
    const fixture = await httpFixture(pki.leafKey, pki.leafCert, state);
    const gateway = await Gateway.open({ stateDir: join(dir, "state") });
    onCleanup(() => gateway.close());
    await approved(gateway, OPERATOR, "create_agent", { agent: "alpha" });
    const server = (tool: typeof ECHO) => ({
      agent: "alpha",
      servers: [
        {
          name: "srv",
          transport: { type: "http", url: `https://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true },
          tools: [approve(tool)],
        },
      ],
    });
    const events: McpAuditEvent[] = [];
    const broker = startMcpBroker({
      servers: (agent) => agentNamed(gateway.registry, agent)?.mcpServers ?? [],
      // As the host wires it: into the gateway's own hash-chained log, beside the egress records.
      audit: (event) => {
        events.push(event);
        gateway.recordSecurityEvent({ ...event });
      },
      http: { ca: [pki.caCert] },
    });
    onCleanup(() => broker.close());
    const api = await startAgentApi({
      gateway,
      agent: "alpha",
      socketPath: join(dir, "alpha.sock"),
      mcp: broker,
    });
    onCleanup(() => api.close());

    // Nothing approved yet: nothing listed, nothing callable.
    expect(await ask(api.socketPath, "GET", "/v1/tools/mcp")).toEqual({ tools: [] });
    await approved(gateway, OPERATOR, "mcp_servers", server(ECHO));
    expect(await ask(api.socketPath, "GET", "/v1/tools/mcp")).toEqual({
      tools: [{ name: "mcp__srv__echo", description: ECHO.description, inputSchema: ECHO.inputSchema }],
    });
    const call = { name: "mcp__srv__echo", arguments: { text: "from the sandbox" } };
    expect(await ask(api.socketPath, "POST", "/v1/tools/mcp/call", call)).toEqual({
      ok: true,
      output: "echo: from the sandbox",
    });

    state.rugPulled = true;
    expect(await ask(api.socketPath, "POST", "/v1/tools/mcp/call", call)).toMatchObject({
      ok: false,
      code: "IC_MCP_DIGEST_MISMATCH",
    });
    // The agent may ask for the new digest; asking is not getting.
    await gateway.submit(
      { id: "agent:alpha", role: "agent", agent: "alpha" },
      { kind: "mcp_servers", payload: server(ECHO_PULLED) },
    );
    expect(await ask(api.socketPath, "GET", "/v1/tools/mcp")).toEqual({ tools: [] });
    await approved(gateway, OPERATOR, "mcp_servers", server(ECHO_PULLED));
    expect(await ask(api.socketPath, "POST", "/v1/tools/mcp/call", call)).toEqual({
      ok: true,
      output: "echo: from the sandbox",
    });
    expect(events.map((e) => [e.agent, e.tool, e.reason])).toEqual([
      ["alpha", "echo", "ok"],
      ["alpha", "echo", "IC_MCP_DIGEST_MISMATCH"],
      ["alpha", "echo", "ok"],
    ]);
    const logged = (await gateway.audit(0, 1000)).filter((record) => record.type === "mcp.call");
    expect(logged.map((record) => record.reason)).toEqual(["ok", "IC_MCP_DIGEST_MISMATCH", "ok"]);
    expect(JSON.stringify(await gateway.audit(0, 1000))).not.toContain("from the sandbox");
  });
});
