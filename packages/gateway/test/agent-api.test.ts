import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startAgentApi } from "../src/agent-api/server.js";
import { Gateway } from "../src/gateway.js";
import { call } from "./agent-api/helpers.js";
import { OPERATOR, temporaryDirectories } from "./helpers.js";

const newDir = temporaryDirectories();

async function setup() {
  const dir = await newDir();
  const gateway = await Gateway.open({ stateDir: dir });
  for (const agent of ["alpha", "beta"]) {
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent } });
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  }
  const api = await startAgentApi({ gateway, agent: "alpha", socketPath: join(dir, "alpha.sock") });
  return { gateway, api, dir };
}

describe("the agent API on its unix socket", () => {
  it("names the caller by the socket, whatever the request says", async () => {
    const { gateway, api } = await setup();
    const self = await call(api.socketPath, "GET", "/v1/self");
    expect(self.json.agent).toMatchObject({ name: "alpha", tools: [] });
    const asked = await call(api.socketPath, "POST", "/v1/changes", {
      kind: "enabled_tools",
      payload: { agent: "alpha", tools: ["http_fetch"] },
    });
    expect(asked.status).toBe(201);
    expect(asked.json.change).toMatchObject({ requester: "agent:alpha", state: "pending" });
    // The change is held: asking is not getting.
    expect(gateway.registry.agents.alpha?.tools).toEqual([]);
    const forOther = await call(api.socketPath, "POST", "/v1/changes", {
      kind: "enabled_tools",
      payload: { agent: "beta", tools: ["http_fetch"] },
    });
    expect(forOther.status).toBe(403);
    const forged = await call(api.socketPath, "POST", "/v1/changes", {
      kind: "enabled_tools",
      payload: { agent: "alpha", tools: ["http_fetch"] },
      requester: "operator",
    });
    expect(forged.status).toBe(400);
    await api.close();
    await gateway.close();
  });

  it("carries messages both ways and lets the agent read only its own changes", async () => {
    const { gateway, api } = await setup();
    await gateway.sendMessage(OPERATOR, "alpha", { text: "fetch the report" });
    await gateway.sendMessage(OPERATOR, "beta", { text: "not for alpha" });
    const inbox = await call(api.socketPath, "GET", "/v1/messages?after=0");
    expect((inbox.json.messages as { text: string }[]).map((m) => m.text)).toEqual(["fetch the report"]);
    const posted = await call(api.socketPath, "POST", "/v1/messages", { text: "done" });
    expect(posted.status).toBe(201);
    expect(gateway.messages(OPERATOR, "alpha", "out", 0).map((m) => [m.from, m.text])).toEqual([
      ["agent:alpha", "done"],
    ]);
    const others = await call(api.socketPath, "GET", "/v1/changes/c1");
    expect(others.status).toBe(404);
    const approve = await call(api.socketPath, "POST", "/v1/changes/c1/approve", { digest: "x" });
    expect(approve.status).toBe(404);
    await api.close();
    await gateway.close();
  });
});
