import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentMcp } from "../src/agent-api/mcp-routes.js";
import { startAgentApi } from "../src/agent-api/server.js";
import { Gateway } from "../src/gateway.js";
import { OPERATOR, temporaryDirectories } from "./helpers.js";

const newDir = temporaryDirectories();

function call(socketPath: string, method: string, path: string, body?: string) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const headers =
      body === undefined
        ? {}
        : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = request({ socketPath, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A broker that records what reaches it: the routes' job is to pass the caller's name and nothing else. */
function recordingBroker() {
  const seen: { agent: string; name?: string; args?: unknown }[] = [];
  const mcp: AgentMcp = {
    async tools(agent) {
      seen.push({ agent });
      return [{ name: "mcp__srv__echo", description: "echo", inputSchema: { type: "object" } }];
    },
    async call(agent, name, args) {
      seen.push({ agent, name, args });
      return name === "mcp__srv__echo"
        ? { ok: true, output: "said" }
        : { ok: false, output: "IC_MCP_UNKNOWN_TOOL: no", code: "IC_MCP_UNKNOWN_TOOL" };
    },
  };
  return { mcp, seen };
}

async function setup(mcp?: AgentMcp) {
  const dir = await newDir();
  const gateway = await Gateway.open({ stateDir: dir });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  const api = await startAgentApi({
    gateway,
    agent: "alpha",
    socketPath: join(dir, "alpha.sock"),
    ...(mcp === undefined ? {} : { mcp }),
  });
  return {
    api,
    async close() {
      await api.close();
      await gateway.close();
    },
  };
}

describe("the agent API's MCP routes", () => {
  it("list and call through the broker as the socket's agent, whatever the body says", async () => {
    const { mcp, seen } = recordingBroker();
    const { api, close } = await setup(mcp);
    const listed = await call(api.socketPath, "GET", "/v1/tools/mcp");
    expect(listed).toEqual({
      status: 200,
      json: { tools: [{ name: "mcp__srv__echo", description: "echo", inputSchema: { type: "object" } }] },
    });
    const called = await call(
      api.socketPath,
      "POST",
      "/v1/tools/mcp/call",
      JSON.stringify({ name: "mcp__srv__echo", arguments: { text: "hi" } }),
    );
    expect(called).toEqual({ status: 200, json: { ok: true, output: "said" } });
    const refused = await call(
      api.socketPath,
      "POST",
      "/v1/tools/mcp/call",
      JSON.stringify({ name: "mcp__srv__other" }),
    );
    expect(refused.json).toEqual({
      ok: false,
      output: "IC_MCP_UNKNOWN_TOOL: no",
      code: "IC_MCP_UNKNOWN_TOOL",
    });
    expect(seen).toEqual([
      { agent: "alpha" },
      { agent: "alpha", name: "mcp__srv__echo", args: { text: "hi" } },
      { agent: "alpha", name: "mcp__srv__other", args: {} },
    ]);
    await close();
  });

  it.each([
    ["an array body", "[]", "IC_API_BAD_JSON"],
    ["a missing name", JSON.stringify({ arguments: {} }), "IC_API_BAD_REQUEST"],
    [
      "a field besides name and arguments",
      JSON.stringify({ name: "mcp__srv__echo", agent: "beta" }),
      "IC_API_BAD_REQUEST",
    ],
    [
      "arguments that are not an object",
      JSON.stringify({ name: "mcp__srv__echo", arguments: [1] }),
      "IC_API_BAD_REQUEST",
    ],
    ["a name that is too long", JSON.stringify({ name: "m".repeat(129) }), "IC_API_BAD_REQUEST"],
  ])("refuse %s with 400 before the broker sees it", async (_what, body, code) => {
    const { mcp, seen } = recordingBroker();
    const { api, close } = await setup(mcp);
    const answer = await call(api.socketPath, "POST", "/v1/tools/mcp/call", body);
    expect(answer.status).toBe(400);
    expect((answer.json.error as { code: string }).code).toBe(code);
    expect(seen).toEqual([]);
    await close();
  });

  it("without a broker, list nothing and refuse every call", async () => {
    const { api, close } = await setup();
    expect((await call(api.socketPath, "GET", "/v1/tools/mcp")).json).toEqual({ tools: [] });
    const answer = await call(
      api.socketPath,
      "POST",
      "/v1/tools/mcp/call",
      JSON.stringify({ name: "mcp__a__b" }),
    );
    expect(answer.json).toMatchObject({ ok: false, code: "IC_MCP_UNKNOWN_TOOL" });
    expect((await call(api.socketPath, "DELETE", "/v1/tools/mcp")).status).toBe(405);
    await close();
  });
});
