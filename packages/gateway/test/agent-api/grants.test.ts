import { describe, expect, it } from "vitest";
import { DEFAULT_GRANTS } from "../../src/changes/kinds.js";
import { verifyGatewayLog } from "../../src/verify-gateway-log.js";
import { agentPrincipal, OPERATOR, temporaryDirectories } from "../helpers.js";
import { call, socketOf, world } from "./helpers.js";

/**
 * Issue 18: an approved `permissions` or `wiring` change must change what the agent can do. Every
 * request here goes over the agent's own unix socket, as the agent in its sandbox sends it.
 */
const newDir = temporaryDirectories();

const CHANGE = { kind: "persona", payload: { agent: "alpha", persona: { name: "p", instructions: "" } } };

describe("changes.request", () => {
  it("lets a new agent ask for changes by default; without the grant it is refused, recorded nowhere but the audit", async () => {
    const w = await world(await newDir(), ["alpha"]);
    const alpha = socketOf(w, "alpha");
    const self = await call(alpha, "GET", "/v1/self");
    expect((self.json.agent as { grants: string[] }).grants).toEqual([...DEFAULT_GRANTS].sort());
    expect((await call(alpha, "POST", "/v1/changes", CHANGE)).status).toBe(201);

    await w.approve("permissions", { agent: "alpha", grants: ["workspace.read"] });
    const before = w.gateway.list(OPERATOR).length;
    const refused = await call(alpha, "POST", "/v1/changes", CHANGE);
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "IC_API_FORBIDDEN" });
    const message = (refused.json.error as { message: string }).message;
    expect(message).toContain("changes.request");
    // It names the change to ask for, keeping what the agent holds (a permissions change replaces the list).
    expect(message).toContain('permissions change with grants ["changes.request","workspace.read"]');
    expect(w.gateway.list(OPERATOR)).toHaveLength(before);
    // The same agent with a control-plane token is refused the same way: the grant holds in the gateway.
    await expect(w.gateway.submit(agentPrincipal("alpha"), CHANGE)).rejects.toMatchObject({
      code: "IC_API_FORBIDDEN",
    });
    expect(w.gateway.list(OPERATOR)).toHaveLength(before);
    // Malformed requests are refused before anything is parsed or recorded, too.
    expect((await call(alpha, "POST", "/v1/changes", { kind: "persona", payload: {} })).status).toBe(403);

    await w.approve("permissions", { agent: "alpha", grants: ["changes.request"] });
    expect((await call(alpha, "POST", "/v1/changes", CHANGE)).status).toBe(201);
    const audited = await w.refusals();
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({
      type: "agent_api.refused",
      agent: "alpha",
      method: "POST",
      path: "/v1/changes",
      code: "IC_API_FORBIDDEN",
      reason: expect.stringContaining("changes.request"),
    });
    await w.close();
  });
});

describe("messages.send and wiring", () => {
  it("delivers a message to a peer only with messages.send and the peer wired, as the peer's inbound message", async () => {
    const w = await world(await newDir(), ["alpha", "beta"]);
    const alpha = socketOf(w, "alpha");
    const toBeta = { to: "beta", text: "please summarise the report" };

    const noGrant = await call(alpha, "POST", "/v1/messages", toBeta);
    expect(noGrant.status).toBe(403);
    expect((noGrant.json.error as { message: string }).message).toMatch(
      /lacks the approved permission messages\.send.*permissions change with grants \["changes\.request","messages\.send","workspace\.read","workspace\.write"\]/,
    );

    await w.approve("permissions", {
      agent: "alpha",
      grants: ["changes.request", "messages.send", "workspace.read", "workspace.write"],
    });
    const notWired = await call(alpha, "POST", "/v1/messages", toBeta);
    expect(notWired.status).toBe(403);
    expect((notWired.json.error as { message: string }).message).toContain(
      'beta is not among agent alpha\'s approved peers, so it may not message it; request a wiring change with peers ["beta"]',
    );
    expect(w.gateway.messages(OPERATOR, "beta", "in", 0)).toEqual([]);

    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    const sent = await call(alpha, "POST", "/v1/messages", toBeta);
    expect(sent.status).toBe(201);
    expect(sent.json.message).toMatchObject({ agent: "beta", direction: "in", from: "agent:alpha" });
    expect(w.gateway.messages(OPERATOR, "beta", "in", 0).map((m) => [m.from, m.text])).toEqual([
      ["agent:alpha", toBeta.text],
    ]);
    // Nothing went to the operator, and the message is no capability: beta's entry is as it was.
    expect(w.gateway.messages(OPERATOR, "alpha", "out", 0)).toEqual([]);
    expect(w.gateway.registry.agents.beta?.grants).toEqual([...DEFAULT_GRANTS].sort());

    // Wiring is one way: beta may not answer alpha without its own approvals.
    const back = await call(socketOf(w, "beta"), "POST", "/v1/messages", { to: "alpha", text: "done" });
    expect(back.status).toBe(403);

    // Revoking either approval closes the channel again.
    await w.approve("wiring", { agent: "alpha", peers: [] });
    expect((await call(alpha, "POST", "/v1/messages", toBeta)).status).toBe(403);
    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    expect((await call(alpha, "POST", "/v1/messages", toBeta)).status).toBe(201);
    await w.approve("permissions", { agent: "alpha", grants: ["changes.request"] });
    const revoked = await call(alpha, "POST", "/v1/messages", toBeta);
    expect(revoked.status).toBe(403);
    expect((revoked.json.error as { message: string }).message).toContain("messages.send");
    expect(w.gateway.messages(OPERATOR, "beta", "in", 0)).toHaveLength(2);
    await w.close();
  });

  it("under concurrent sends and a revocation, delivers only what the log allows where each message stands", async () => {
    const dir = await newDir();
    const w = await world(dir, ["alpha", "beta"]);
    await w.approve("permissions", { agent: "alpha", grants: ["messages.send"] });
    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    const alpha = socketOf(w, "alpha");
    const sends = Array.from({ length: 40 }, (_, i) =>
      call(alpha, "POST", "/v1/messages", { to: "beta", text: `m${i}` }),
    );
    const revoke = w.approve("wiring", { agent: "alpha", peers: [] });
    const replies = await Promise.all(sends);
    await revoke;
    const after = await call(alpha, "POST", "/v1/messages", { to: "beta", text: "late" });
    expect(after.status).toBe(403);
    const records = await w.gateway.audit(0, 10_000);
    const revokedAt = records.filter((r) => r.type === "change.applied").at(-1)?.seq as number;
    const delivered = records.filter((r) => r.type === "agent.message" && r.from === "agent:alpha");
    // Whichever way the race goes (all, some or none delivered), each answer matches the log.
    expect(delivered.length).toBe(replies.filter((r) => r.status === 201).length);
    expect(replies.every((r) => r.status === 201 || r.status === 403)).toBe(true);
    for (const record of delivered) expect(record.seq).toBeLessThan(revokedAt);
    await w.close();
    // Read back, the fold checks each message again at its place in the log, and agrees.
    expect(await verifyGatewayLog({ dir })).toMatchObject({ ok: true });
  });

  it("always lets an agent answer the operator, whatever its grants", async () => {
    const w = await world(await newDir(), ["alpha"]);
    await w.approve("permissions", { agent: "alpha", grants: [] });
    const reply = await call(socketOf(w, "alpha"), "POST", "/v1/messages", { text: "done" });
    expect(reply.status).toBe(201);
    expect(w.gateway.messages(OPERATOR, "alpha", "out", 0).map((m) => m.text)).toEqual(["done"]);
    await w.close();
  });

  it("refuses a peer that is not wired, does not exist or has a prototype name, and the agent itself, auditing each", async () => {
    const w = await world(await newDir(), ["alpha", "beta", "gamma"]);
    await w.approve("permissions", { agent: "alpha", grants: ["messages.send"] });
    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    const alpha = socketOf(w, "alpha");
    const send = (to: unknown) => call(alpha, "POST", "/v1/messages", { to, text: "hello" });
    const forbidden: [string, string][] = [
      ["gamma", "gamma is not among agent alpha's approved peers"],
      // An agent learns nothing about agents it is not wired to: the same answer as for gamma.
      ["ghost", "ghost is not among agent alpha's approved peers"],
      ["constructor", "constructor is not among agent alpha's approved peers"],
      ["hasownproperty", "hasownproperty is not among agent alpha's approved peers"],
      // Chosen: messaging itself is refused; an answer to the operator is {"text"} without "to".
      ["alpha", "an agent cannot message itself"],
    ];
    for (const [to, reason] of forbidden) {
      const reply = await send(to);
      expect(reply.status, to).toBe(403);
      expect(reply.json.error, to).toMatchObject({
        code: "IC_API_FORBIDDEN",
        message: expect.stringContaining(reason),
      });
    }
    // Not an agent name at all: refused as malformed before any registry lookup.
    for (const to of ["__proto__", "Beta", "be\u200bta", "beta\u202e", "", 7, null]) {
      const reply = await send(to);
      expect(reply.status, String(to)).toBe(400);
      expect(reply.json.error, String(to)).toMatchObject({ code: "IC_CHANGE_INVALID" });
    }
    expect((await call(alpha, "POST", "/v1/messages", { to: "beta", text: "x", cc: "gamma" })).status).toBe(
      400,
    );
    expect((await call(alpha, "POST", "/v1/messages", { to: "beta", text: "hi\u200b" })).status).toBe(400);
    for (const agent of ["beta", "gamma", "alpha"]) {
      expect(w.gateway.messages(OPERATOR, agent, "in", 0), agent).toEqual([]);
    }
    const audited = await w.refusals();
    expect(audited.map((r) => r.reason)).toEqual(
      forbidden.map(([, reason]) => expect.stringContaining(reason)),
    );
    expect(audited.every((r) => r.agent === "alpha" && r.path === "/v1/messages")).toBe(true);
    await w.close();
  });
});

describe("messages.read", () => {
  it("shows messages from peers only with the grant, the operator's always, and says when the agent is idle", async () => {
    let idle = 0;
    const w = await world(await newDir(), ["alpha", "beta"], {}, (agent) =>
      agent === "beta" ? { onIdle: () => (idle += 1) } : {},
    );
    await w.approve("permissions", { agent: "alpha", grants: ["messages.send"] });
    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    const beta = socketOf(w, "beta");
    const inbox = async (after = 0) => {
      const reply = await call(beta, "GET", `/v1/messages?after=${after}`);
      expect(reply.status).toBe(200);
      return (reply.json.messages as { from: string; text: string; seq: number }[]).map((m) => [
        m.from,
        m.text,
      ]);
    };

    expect(await inbox()).toEqual([]);
    expect(idle).toBe(1);
    await w.gateway.sendMessage(OPERATOR, "beta", { text: "from the operator" });
    expect(
      (await call(socketOf(w, "alpha"), "POST", "/v1/messages", { to: "beta", text: "from alpha" })).status,
    ).toBe(201);
    // Without messages.read the peer's message is not shown, and the poll found the operator's.
    expect(await inbox()).toEqual([["operator", "from the operator"]]);
    expect(idle).toBe(1);

    await w.approve("permissions", { agent: "beta", grants: ["messages.read"] });
    expect(await inbox()).toEqual([
      ["operator", "from the operator"],
      ["agent:alpha", "from alpha"],
    ]);
    const last = w.gateway.messages(OPERATOR, "beta", "in", 0).at(-1)?.seq as number;
    expect(await inbox(last)).toEqual([]);
    expect(idle).toBe(2);

    // Revoked: the peer's messages are hidden again, and an inbox of only those counts as idle.
    await w.approve("permissions", { agent: "beta", grants: [] });
    const operatorSeq = w.gateway.messages(OPERATOR, "beta", "in", 0)[0]?.seq as number;
    expect(await inbox(operatorSeq)).toEqual([]);
    expect(idle).toBe(3);
    await w.close();
  });

  it("keeps the API answering when the idle listener throws", async () => {
    const w = await world(await newDir(), ["alpha"], {}, () => ({
      onIdle: () => {
        throw new Error("supervisor bug");
      },
    }));
    const alpha = socketOf(w, "alpha");
    expect((await call(alpha, "GET", "/v1/messages")).status).toBe(200);
    expect((await call(alpha, "GET", "/v1/self")).status).toBe(200);
    await w.close();
  });
});

describe("the refusal audit", () => {
  it("records a change asked for another agent as well, and no malformed or unknown request", async () => {
    const w = await world(await newDir(), ["alpha", "beta"]);
    const alpha = socketOf(w, "alpha");
    const other = await call(alpha, "POST", "/v1/changes", {
      ...CHANGE,
      payload: { ...CHANGE.payload, agent: "beta" },
    });
    expect(other.status).toBe(403);
    expect((await call(alpha, "GET", "/v1/nothing")).status).toBe(404);
    expect((await call(alpha, "POST", "/v1/messages", { text: "" })).status).toBe(400);
    const audited = await w.refusals();
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ agent: "alpha", code: "IC_CHANGE_FORBIDDEN", path: "/v1/changes" });
    await w.close();
  });

  it("writes refusals one by one up to its budget, then one record with the count", async () => {
    const w = await world(await newDir(), ["alpha"], {}, () => ({ refusalAudit: { perWindow: 3 } }));
    await w.approve("permissions", { agent: "alpha", grants: [] });
    const alpha = socketOf(w, "alpha");
    for (let i = 0; i < 10; i += 1) {
      expect((await call(alpha, "POST", "/v1/messages", { to: "beta", text: "x" })).status).toBe(403);
    }
    expect(await w.refusals()).toHaveLength(3);
    await w.apis.get("alpha")?.close();
    w.apis.delete("alpha");
    const audited = await w.refusals();
    expect(audited).toHaveLength(4);
    expect(audited[3]).toMatchObject({ type: "agent_api.refused", agent: "alpha", count: 7 });
    await w.close();
  });
});
