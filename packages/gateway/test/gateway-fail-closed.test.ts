import { type FileHandle, open } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../src/errors.js";
import { Gateway, type GatewayOptions } from "../src/gateway.js";
import { OPERATOR, temporaryDirectories } from "./helpers.js";

const newDir = temporaryDirectories();

/** Opens the log's files normally and lets the test close events.jsonl behind the log's back. */
function breakable(): {
  factory: NonNullable<GatewayOptions["fileHandleFactory"]>;
  breakLog: () => Promise<void>;
} {
  let events: FileHandle | undefined;
  return {
    factory: async (path, flags) => {
      const handle = await open(path, flags, 0o600);
      if (path.endsWith("events.jsonl")) events = handle;
      return handle;
    },
    breakLog: async () => {
      await events?.close();
    },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  return undefined;
}

describe("when the log cannot be written", () => {
  it("fails the request, applies nothing, and refuses everything after", async () => {
    const dir = await newDir();
    const files = breakable();
    const gateway = await Gateway.open({ stateDir: dir, fileHandleFactory: files.factory });
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
    await files.breakLog();
    expect(await codeOf(gateway.approve(OPERATOR, change.id, { digest: change.digest }))).toBe(
      "IC_AUDIT_WRITE",
    );
    expect(gateway.registry.agents.alpha).toBeUndefined();
    expect(gateway.ready).toBe(false);
    expect(await codeOf(gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "beta" } }))).toBe(
      "IC_AUDIT_WRITE",
    );
    await gateway.close();

    const reopened = await Gateway.open({ stateDir: dir });
    expect(reopened.show(OPERATOR, change.id).state).toBe("pending");
    expect(reopened.registry.agents.alpha).toBeUndefined();
    await reopened.close();
  });

  it("does not publish a change whose applied record was lost, and says so at the next start", async () => {
    const dir = await newDir();
    const files = breakable();
    const gateway = await Gateway.open({
      stateDir: dir,
      fileHandleFactory: files.factory,
      // The approval is on disk; the log breaks just before the applied record.
      effects: { createAgentCredentials: files.breakLog },
    });
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
    expect(await codeOf(gateway.approve(OPERATOR, change.id, { digest: change.digest }))).toBe(
      "IC_AUDIT_WRITE",
    );
    expect(gateway.registry.agents.alpha).toBeUndefined();
    await gateway.close();

    const reopened = await Gateway.open({ stateDir: dir });
    expect(reopened.show(OPERATOR, change.id)).toMatchObject({ state: "apply_failed" });
    expect(reopened.show(OPERATOR, change.id).applyError).toMatch(/retry/);
    expect(reopened.registry.agents.alpha).toBeUndefined();
    expect((await reopened.retry(OPERATOR, change.id, {})).state).toBe("applied");
    expect(reopened.registry.agents.alpha).toBeDefined();
    await reopened.close();
  });
});
