import { describe, expect, it } from "vitest";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../../src/registry.js";

const applied = (id: string, kind: string, payload: Record<string, unknown>) =>
  ({ type: "change.applied", id, kind, payload }) as never;

function demo(): Registry {
  let registry = foldRegistry(EMPTY_REGISTRY, applied("c1", "create_agent", { agent: "alpha" }));
  registry = foldRegistry(
    registry,
    applied("c2", "egress", { agent: "alpha", action: "allow", host: "a.example", port: 443 }),
  );
  return registry;
}

describe("the registry", () => {
  it("is a fold of applied changes and ignores every other record", () => {
    const registry = demo();
    expect(registry.agents.alpha?.egress).toEqual([{ host: "a.example", port: 443 }]);
    for (const type of ["change.submitted", "change.approved", "change.apply_failed", "auth.failed"]) {
      expect(
        foldRegistry(registry, {
          type,
          id: "c9",
          kind: "egress",
          payload: { agent: "alpha", action: "revoke", host: "a.example", port: 443 },
        } as never),
      ).toBe(registry);
    }
  });

  it("hands out frozen objects: a mutation attempt throws", () => {
    const registry = demo();
    const agent = registry.agents.alpha;
    if (agent === undefined) throw new Error("alpha is missing");
    expect(() => {
      (registry.agents as Record<string, unknown>).beta = {};
    }).toThrow(TypeError);
    expect(() => {
      (agent.egress as unknown as unknown[]).push({ host: "evil.example", port: 443 });
    }).toThrow(TypeError);
    expect(() => {
      (agent as unknown as { tools: string[] }).tools = ["http_fetch"];
    }).toThrow(TypeError);
    expect(() => {
      (agent.egress[0] as { host: string }).host = "evil.example";
    }).toThrow(TypeError);
    expect(registry.agents.alpha?.egress).toEqual([{ host: "a.example", port: 443 }]);
  });

  it("dispatches strictly by kind: a persona change cannot open an egress host", () => {
    const before = demo();
    const after = foldRegistry(
      before,
      applied("c3", "persona", {
        agent: "alpha",
        persona: { name: "p", instructions: "" },
        egress: [{ host: "evil.example", port: 443 }],
        tools: ["http_fetch"],
      }),
    );
    expect(after.agents.alpha?.egress).toEqual(before.agents.alpha?.egress);
    expect(after.agents.alpha?.tools).toEqual([]);
    expect(after.agents.alpha?.persona).toEqual({ name: "p", instructions: "" });
  });

  it("revokes exactly one host and leaves the previous registry untouched", () => {
    const before = demo();
    const after = foldRegistry(
      before,
      applied("c3", "egress", { agent: "alpha", action: "revoke", host: "a.example", port: 443 }),
    );
    expect(after.agents.alpha?.egress).toEqual([]);
    expect(before.agents.alpha?.egress).toHaveLength(1);
  });

  it("starts an agent with no model and the default grants; a model change writes only the model", () => {
    const before = demo();
    expect(before.agents.alpha?.model).toBeNull();
    expect(before.agents.alpha?.grants).toEqual(["changes.request", "workspace.read", "workspace.write"]);
    const set = foldRegistry(
      before,
      applied("c3", "model", {
        agent: "alpha",
        action: "set",
        provider: "mock",
        model: "mock-1",
        maxOutputTokens: 100,
        dailyTokens: 1000,
        // Fields no model schema allows, as if forged: the updater takes only the model's own.
        grants: ["messages.send"],
        egress: [{ host: "evil.example", port: 443 }],
      }),
    );
    expect(set.agents.alpha?.model).toEqual({
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 100,
      dailyTokens: 1000,
    });
    expect({ ...set.agents.alpha, model: null }).toEqual(before.agents.alpha);
    expect(Object.isFrozen(set.agents.alpha?.model)).toBe(true);
    const revoked = foldRegistry(set, applied("c4", "model", { agent: "alpha", action: "revoke" }));
    expect(revoked.agents.alpha).toEqual(before.agents.alpha);
  });

  it("refuses an applied change for an unknown agent or a second creation", () => {
    expect(() =>
      foldRegistry(
        EMPTY_REGISTRY,
        applied("c1", "persona", { agent: "ghost", persona: { name: "x", instructions: "" } }),
      ),
    ).toThrow(/unknown agent/);
    expect(() => foldRegistry(demo(), applied("c9", "create_agent", { agent: "alpha" }))).toThrow(/exists/);
  });
});
