import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { startControlPlane } from "../../src/control-plane.js";
import { Gateway } from "../../src/gateway.js";
import { verifyEventLog } from "../../src/log/index.js";
import { agentNamed, EMPTY_REGISTRY, foldRegistry, type Registry } from "../../src/registry.js";
import { OPERATOR, temporaryDirectories } from "../helpers.js";

/**
 * Finding 1 of the adversarial audit: an agent named `constructor` was found on Object.prototype, so
 * its creation was applied on disk and then failed to fold, and every later start failed on it.
 */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const NAMES = [...PROTOTYPE_NAMES, "alpha", "beta"];
const newDir = temporaryDirectories();

const applied = (id: string, kind: string, payload: Record<string, unknown>) =>
  ({ type: "change.applied", id, kind, payload }) as never;

type Step = { readonly op: "create" | "tools" | "lookup"; readonly name: string };

describe("names that are also Object.prototype's keys", () => {
  it("are plain names to the registry fold, in any order (property)", () => {
    expect(PROTOTYPE_NAMES).toEqual(expect.arrayContaining(["constructor", "__proto__", "toString"]));
    const step = fc.record({
      op: fc.constantFrom<Step["op"]>("create", "tools", "lookup"),
      name: fc.constantFrom(...NAMES),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        let registry: Registry = EMPTY_REGISTRY;
        const model = new Map<string, readonly string[]>();
        steps.forEach(({ op, name }, index) => {
          const id = `c${index + 1}`;
          if (op === "lookup") {
            expect(agentNamed(registry, name)?.name).toBe(model.has(name) ? name : undefined);
          } else if (op === "create") {
            if (model.has(name)) {
              expect(() => foldRegistry(registry, applied(id, "create_agent", { agent: name }))).toThrow(
                /exists already/,
              );
            } else {
              registry = foldRegistry(registry, applied(id, "create_agent", { agent: name }));
              model.set(name, []);
            }
          } else {
            const tools = [`tool_${index}`];
            if (model.has(name)) {
              registry = foldRegistry(registry, applied(id, "enabled_tools", { agent: name, tools }));
              model.set(name, tools);
            } else {
              expect(() =>
                foldRegistry(registry, applied(id, "enabled_tools", { agent: name, tools })),
              ).toThrow(/unknown agent/);
            }
          }
        });
        // The registry holds exactly the model's agents: nothing inherited, nothing lost, and the
        // prototype of the map is untouched (an `__proto__` agent is data, not a prototype).
        expect(Object.keys(registry.agents).sort()).toEqual([...model.keys()].sort());
        expect(Object.getPrototypeOf(registry.agents)).toBe(null);
        for (const [name, tools] of model) expect(agentNamed(registry, name)?.tools).toEqual(tools);
        const roundTrip = JSON.parse(JSON.stringify(registry.agents)) as object;
        expect(Object.keys(roundTrip).sort()).toEqual([...model.keys()].sort());
      }),
      { numRuns: 300 },
    );
  });

  it("an agent named constructor is created, applied, and the state directory opens again", async () => {
    const dir = await newDir();
    let gateway = await Gateway.open({ stateDir: dir });
    const { change } = await gateway.submit(OPERATOR, {
      kind: "create_agent",
      payload: { agent: "constructor" },
    });
    expect(change.state).toBe("pending");
    expect((await gateway.approve(OPERATOR, change.id, { digest: change.digest })).state).toBe("applied");
    expect(agentNamed(gateway.registry, "constructor")?.name).toBe("constructor");
    const second = await gateway.submit(OPERATOR, {
      kind: "create_agent",
      payload: { agent: "constructor" },
    });
    expect(second.refusal?.verifier).toBe("agent_reference");
    await gateway.close();

    gateway = await Gateway.open({ stateDir: dir });
    expect(agentNamed(gateway.registry, "constructor")?.createdBy).toBe(change.id);
    expect(Object.keys(gateway.registry.agents)).toEqual(["constructor"]);
    await gateway.close();
    expect((await verifyEventLog({ dir })).ok).toBe(true);
  });

  it("every other Object.prototype name is refused at submission, and the gateway goes on", async () => {
    const dir = await newDir();
    const gateway = await Gateway.open({ stateDir: dir });
    for (const name of PROTOTYPE_NAMES.filter((n) => n !== "constructor")) {
      await expect(
        gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: name } }),
      ).rejects.toMatchObject({ code: "IC_CHANGE_INVALID" });
      await expect(
        gateway.submit(OPERATOR, {
          kind: "persona",
          payload: { agent: name, persona: { name: "x", instructions: "" } },
        }),
      ).rejects.toMatchObject({ code: "IC_CHANGE_INVALID" });
    }
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
    expect((await gateway.approve(OPERATOR, change.id, { digest: change.digest })).state).toBe("applied");
    await gateway.close();
  });

  it("GET /v1/registry/agents/constructor is 404 until such an agent exists", async () => {
    const dir = await newDir();
    const plane = await startControlPlane({ stateDir: dir, dev: true, listen: "127.0.0.1:0" });
    try {
      const token = (await readFile(join(dir, "tokens", "operator.token"), "utf8")).trim();
      const get = (path: string) =>
        fetch(`${plane.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      for (const name of ["constructor", "valueof", "tostring"]) {
        const before = await get(`/v1/registry/agents/${name}`);
        expect(before.status).toBe(404);
        expect(((await before.json()) as { error: { code: string } }).error.code).toBe("IC_API_NOT_FOUND");
      }
      const created = await fetch(`${plane.url}/v1/changes`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ kind: "create_agent", payload: { agent: "constructor" } }),
      });
      const { change } = (await created.json()) as { change: { id: string; digest: string } };
      const approved = await fetch(`${plane.url}/v1/changes/${change.id}/approve`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ digest: change.digest }),
      });
      expect(approved.status).toBe(200);
      const after = await get("/v1/registry/agents/constructor");
      expect(after.status).toBe(200);
      expect(((await after.json()) as { agent: { name: string } }).agent.name).toBe("constructor");
    } finally {
      await plane.close();
    }
  });
});
