import { describe, expect, it } from "vitest";
import { Gateway } from "../../src/gateway.js";
import { agentNamed } from "../../src/registry.js";
import { verifyGatewayLog } from "../../src/verify-gateway-log.js";
import { OPERATOR, temporaryDirectories } from "../helpers.js";
import { call, socketOf, world } from "./helpers.js";

/** Issue 18: an agent has a model only once a `model` change naming a provider the host configured is approved. */
const newDir = temporaryDirectories();

const PROVIDERS = new Map([
  ["mock", { models: null }],
  ["anthropic", { models: ["claude-sonnet-4-5"] }],
]);
const MOCK = {
  agent: "alpha",
  action: "set",
  provider: "mock",
  model: "mock-1",
  maxOutputTokens: 1024,
  dailyTokens: 50_000,
};

describe("the model change", () => {
  it("gives an agent no model until an operator approves one, and none again once revoked", async () => {
    const w = await world(await newDir(), ["alpha"], { modelProviders: PROVIDERS });
    const alpha = socketOf(w, "alpha");
    const model = async () => ((await call(alpha, "GET", "/v1/self")).json.agent as { model: unknown }).model;
    expect(await model()).toBeNull();

    // The agent may ask for a model; asking is not getting.
    const asked = await call(alpha, "POST", "/v1/changes", { kind: "model", payload: MOCK });
    expect(asked.status).toBe(201);
    expect(asked.json.change).toMatchObject({ kind: "model", state: "pending", requester: "agent:alpha" });
    expect(await model()).toBeNull();
    const change = asked.json.change as { id: string; digest: string };
    await w.gateway.approve(OPERATOR, change.id, { digest: change.digest });
    expect(await model()).toEqual({
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 50_000,
    });

    await w.approve("model", { ...MOCK, provider: "anthropic", model: "claude-sonnet-4-5" });
    expect(await model()).toMatchObject({ provider: "anthropic", model: "claude-sonnet-4-5" });

    await w.approve("model", { agent: "alpha", action: "revoke" });
    expect(await model()).toBeNull();
    const again = await call(alpha, "POST", "/v1/changes", {
      kind: "model",
      payload: { agent: "alpha", action: "revoke" },
    });
    expect(again.status).toBe(422);
    expect(again.json.refusal).toMatchObject({
      verifier: "model_provider",
      reason: expect.stringContaining("no approved model"),
    });
    await w.close();
  });

  it("refuses an unknown provider and a model the provider does not allow, recorded, before a human sees them", async () => {
    const w = await world(await newDir(), ["alpha"], { modelProviders: PROVIDERS });
    const alpha = socketOf(w, "alpha");
    const cases: [Record<string, unknown>, string][] = [
      [{ ...MOCK, provider: "openai", model: "gpt-4o" }, "no model provider named openai"],
      [{ ...MOCK, provider: "constructor" }, "no model provider named constructor"],
      [{ ...MOCK, provider: "anthropic", model: "claude-opus-4" }, "does not allow model claude-opus-4"],
    ];
    for (const [payload, reason] of cases) {
      const reply = await call(alpha, "POST", "/v1/changes", { kind: "model", payload });
      expect(reply.status, reason).toBe(422);
      expect(reply.json.refusal).toEqual({
        verifier: "model_provider",
        reason: expect.stringContaining(reason),
      });
      expect(reply.json.change).toMatchObject({ state: "rejected", decidedBy: "verifier:model_provider" });
    }
    expect(w.gateway.list(OPERATOR, { state: "pending" })).toEqual([]);
    expect(agentNamed(w.gateway.registry, "alpha")?.model).toBeNull();
    await w.close();
  });

  it("refuses invisible or look-alike characters in provider and model names as malformed", async () => {
    const w = await world(await newDir(), ["alpha"], { modelProviders: PROVIDERS });
    const alpha = socketOf(w, "alpha");
    for (const payload of [
      { ...MOCK, provider: "mock\u200b" },
      { ...MOCK, provider: "mo\u00adck" },
      { ...MOCK, model: "mock-1\u200d" },
      { ...MOCK, model: `mock-1${String.fromCodePoint(0xe0041)}` },
      { ...MOCK, model: "mock-\u202e1" },
      { ...MOCK, model: "m\u043eck-1" },
      { ...MOCK, provider: "__proto__" },
    ]) {
      const reply = await call(alpha, "POST", "/v1/changes", { kind: "model", payload });
      expect(reply.status, JSON.stringify(payload)).toBe(400);
      expect(reply.json.error).toMatchObject({ code: "IC_CHANGE_INVALID" });
    }
    expect(w.gateway.list(OPERATOR)).toEqual(
      w.gateway.list(OPERATOR).filter((c) => c.kind === "create_agent"),
    );
    await w.close();
  });

  it("offers only the offline mock provider, with any model, when the host configured none", async () => {
    const w = await world(await newDir(), ["alpha"]);
    const alpha = socketOf(w, "alpha");
    const anthropic = await call(alpha, "POST", "/v1/changes", {
      kind: "model",
      payload: { ...MOCK, provider: "anthropic", model: "claude-sonnet-4-5" },
    });
    expect(anthropic.json.refusal).toMatchObject({ reason: expect.stringContaining("(configured: mock)") });
    expect((await call(alpha, "POST", "/v1/changes", { kind: "model", payload: MOCK })).status).toBe(201);
    await w.close();
  });
});

describe("the providers a gateway was given", () => {
  it("are a copy: changing the caller's map or list afterwards widens nothing", async () => {
    const providers = new Map([["anthropic", { models: ["claude-sonnet-4-5"] }]]);
    const w = await world(await newDir(), ["alpha"], { modelProviders: providers });
    providers.set("openai", { models: ["gpt-4o"] });
    (providers.get("anthropic") as { models: string[] }).models.push("claude-opus-4");
    for (const [provider, model] of [
      ["openai", "gpt-4o"],
      ["anthropic", "claude-opus-4"],
    ]) {
      const { refusal } = await w.gateway.submit(OPERATOR, {
        kind: "model",
        payload: { ...MOCK, provider, model },
      });
      expect(refusal?.verifier, provider).toBe("model_provider");
    }
    await w.close();
  });
});

describe("the log, read back from disk", () => {
  it("folds to the same registry (model, grants, peers) and inboxes, and verifies", async () => {
    const dir = await newDir();
    const w = await world(dir, ["alpha", "beta"], { modelProviders: PROVIDERS });
    await w.approve("model", MOCK);
    await w.approve("model", { ...MOCK, agent: "beta", provider: "anthropic", model: "claude-sonnet-4-5" });
    await w.approve("model", { agent: "beta", action: "revoke" });
    await w.approve("permissions", { agent: "alpha", grants: ["messages.send", "workspace.read"] });
    await w.approve("permissions", { agent: "beta", grants: ["messages.read"] });
    await w.approve("wiring", { agent: "alpha", peers: ["beta"] });
    expect(
      (await call(socketOf(w, "alpha"), "POST", "/v1/messages", { to: "beta", text: "hi" })).status,
    ).toBe(201);
    expect(
      (await call(socketOf(w, "alpha"), "POST", "/v1/messages", { to: "gamma", text: "x" })).status,
    ).toBe(403);
    const live = w.gateway.registry;
    const inbox = w.gateway.messages(OPERATOR, "beta", "in", 0);
    await w.close();

    expect(await verifyGatewayLog({ dir })).toMatchObject({ ok: true });
    const replayed = await Gateway.open({ stateDir: dir });
    expect(replayed.registry).toEqual(live);
    expect(agentNamed(replayed.registry, "alpha")).toMatchObject({
      model: { provider: "mock", model: "mock-1", maxOutputTokens: 1024, dailyTokens: 50_000 },
      grants: ["messages.send", "workspace.read"],
      peers: ["beta"],
    });
    expect(agentNamed(replayed.registry, "beta")).toMatchObject({ model: null, grants: ["messages.read"] });
    expect(replayed.messages(OPERATOR, "beta", "in", 0)).toEqual(inbox);
    expect(inbox.map((m) => m.from)).toEqual(["agent:alpha"]);
    await replayed.close();
  });
});
