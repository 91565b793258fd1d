import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { Gateway } from "../../src/gateway.js";
import { verifyEventLog } from "../../src/log/index.js";
import { agentNamed } from "../../src/registry.js";
import { OPERATOR, temporaryDirectories } from "../helpers.js";

/**
 * The registry fold is made to throw for one change, as `constructor` once made it throw: the gateway
 * must find out before it writes `change.applied`, record `change.apply_failed`, and leave a log that
 * opens again. No public input reaches such a throw any more, hence the mock.
 */
vi.mock("../../src/registry.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/registry.js")>();
  return {
    ...original,
    foldRegistry: (
      registry: never,
      record: { type: string; id?: unknown; payload?: { agent?: unknown } },
    ) => {
      if (record.type === "change.applied" && record.payload?.agent === "doomed") {
        throw new Error("the registry cannot take agent doomed");
      }
      return original.foldRegistry(registry, record as never);
    },
  };
});

const newDir = temporaryDirectories();

describe("an apply whose registry fold throws", () => {
  it("is recorded apply_failed, never applied, and the log still opens", async () => {
    const dir = await newDir();
    let gateway = await Gateway.open({ stateDir: dir });
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "doomed" } });
    await expect(gateway.approve(OPERATOR, change.id, { digest: change.digest })).rejects.toMatchObject({
      code: "IC_CHANGE_APPLY_FAILED",
    });
    expect(gateway.show(OPERATOR, change.id)).toMatchObject({
      state: "apply_failed",
      applyError: "the registry cannot take agent doomed",
    });
    await expect(gateway.retry(OPERATOR, change.id, {})).rejects.toMatchObject({
      code: "IC_CHANGE_APPLY_FAILED",
    });
    // The gateway goes on: another change applies.
    const other = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
    await gateway.approve(OPERATOR, other.change.id, { digest: other.change.digest });
    await gateway.close();

    const types = (await readFile(join(dir, "events.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; id?: string })
      .filter((r) => r.id === change.id)
      .map((r) => r.type);
    expect(types).not.toContain("change.applied");
    expect(types.filter((t) => t === "change.apply_failed")).toHaveLength(2);

    gateway = await Gateway.open({ stateDir: dir });
    expect(gateway.show(OPERATOR, change.id).state).toBe("apply_failed");
    expect(agentNamed(gateway.registry, "doomed")).toBeUndefined();
    expect(agentNamed(gateway.registry, "alpha")?.name).toBe("alpha");
    await gateway.close();
    expect((await verifyEventLog({ dir })).ok).toBe(true);
  });
});
