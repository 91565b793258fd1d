import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../src/errors.js";
import { Gateway } from "../src/gateway.js";
import { verifyEventLog } from "../src/log/index.js";
import {
  agentPrincipal,
  manualClock,
  OPERATOR,
  SECOND_OPERATOR,
  temporaryDirectories,
  VIEWER,
} from "./helpers.js";

const newDir = temporaryDirectories();

async function records(dir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, "events.jsonl"), "utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function codeOf(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  return undefined;
}

async function withAgent(dir: string, options: Partial<Parameters<typeof Gateway.open>[0]> = {}) {
  const gateway = await Gateway.open({ stateDir: dir, ...options });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  return gateway;
}

describe("the gateway's change lifecycle", () => {
  it("holds a change until an operator approves the digest it was shown, then applies it once", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    const { change } = await gateway.submit(agentPrincipal("alpha"), {
      kind: "enabled_tools",
      payload: { agent: "alpha", tools: ["read_file"] },
    });
    expect(change).toMatchObject({ id: "c2", state: "pending", requester: "agent:alpha" });
    expect(change.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(gateway.registry.agents.alpha?.tools).toEqual([]);

    expect(await codeOf(gateway.approve(OPERATOR, "c2", { digest: `sha256:${"0".repeat(64)}` }))).toBe(
      "IC_CHANGE_DIGEST_MISMATCH",
    );
    expect(gateway.show(OPERATOR, "c2").state).toBe("pending");
    expect(gateway.registry.agents.alpha?.tools).toEqual([]);

    const applied = await gateway.approve(OPERATOR, "c2", { digest: change.digest });
    expect(applied).toMatchObject({ state: "applied", decidedBy: "operator" });
    expect(gateway.registry.agents.alpha?.tools).toEqual(["read_file"]);
    expect(await codeOf(gateway.approve(OPERATOR, "c2", { digest: change.digest }))).toBe(
      "IC_CHANGE_CONFLICT",
    );
    await gateway.close();

    const types = (await records(dir)).map((r) => r.type);
    expect(types.filter((t) => t === "change.applied")).toHaveLength(2);
    expect(types).toContain("change.approval_refused");
    expect((await verifyEventLog({ dir })).ok).toBe(true);
  });

  it("applies a change exactly once when two approvals race", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    const { change } = await gateway.submit(OPERATOR, {
      kind: "wiring",
      payload: { agent: "alpha", peers: [] },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => gateway.approve(OPERATOR, change.id, { digest: change.digest })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as GatewayError).code).toBe("IC_CHANGE_CONFLICT");
    }
    await gateway.close();
    const applied = (await records(dir)).filter((r) => r.type === "change.applied" && r.id === change.id);
    expect(applied).toHaveLength(1);
  });

  it("answers not-found and conflict without writing a decision", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    const before = gateway.head.seq;
    expect(await codeOf(gateway.approve(OPERATOR, "c99", { digest: `sha256:${"a".repeat(64)}` }))).toBe(
      "IC_CHANGE_NOT_FOUND",
    );
    expect(await codeOf(gateway.reject(OPERATOR, "c1", { reason: "late" }))).toBe("IC_CHANGE_CONFLICT");
    expect(await codeOf(gateway.cancel(OPERATOR, "c1", {}))).toBe("IC_CHANGE_CONFLICT");
    expect(await codeOf(gateway.retry(OPERATOR, "c1", {}))).toBe("IC_CHANGE_CONFLICT");
    expect(gateway.head.seq).toBe(before);
    await gateway.close();
  });

  it("lets no agent and no viewer approve: an agent asking for a new agent cannot create it", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    const alpha = agentPrincipal("alpha");
    const { change } = await gateway.submit(alpha, { kind: "create_agent", payload: { agent: "beta" } });
    expect(await codeOf(gateway.approve(alpha, change.id, { digest: change.digest }))).toBe(
      "IC_API_FORBIDDEN",
    );
    expect(await codeOf(gateway.approve(VIEWER, change.id, { digest: change.digest }))).toBe(
      "IC_API_FORBIDDEN",
    );
    expect(gateway.registry.agents.beta).toBeUndefined();
    expect(gateway.show(OPERATOR, change.id).state).toBe("pending");
    await gateway.close();
  });

  it("lets an agent submit only for itself and see only its own changes", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    // beta exists (with the default grants), so what refuses it below is the agent it names.
    const created = (await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "beta" } }))
      .change;
    await gateway.approve(OPERATOR, created.id, { digest: created.digest });
    const beta = agentPrincipal("beta");
    expect(
      await codeOf(
        gateway.submit(beta, { kind: "enabled_tools", payload: { agent: "alpha", tools: ["http_fetch"] } }),
      ),
    ).toBe("IC_CHANGE_FORBIDDEN");
    const { change } = await gateway.submit(agentPrincipal("alpha"), {
      kind: "persona",
      payload: { agent: "alpha", persona: { name: "helper", instructions: "be brief" } },
    });
    expect(gateway.list(beta)).toEqual([]);
    expect(await codeOf(() => gateway.show(beta, change.id))).toBe("IC_CHANGE_NOT_FOUND");
    expect(await codeOf(gateway.cancel(beta, change.id, {}))).toBe("IC_CHANGE_NOT_FOUND");
    expect((await gateway.cancel(agentPrincipal("alpha"), change.id, {})).state).toBe("cancelled");
    await gateway.close();
  });

  it("records a verifier's refusal: the change is rejected before any human sees it pending", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    const result = await gateway.submit(OPERATOR, {
      kind: "egress",
      payload: { agent: "alpha", action: "allow", host: "*.example.com", port: 443 },
    });
    expect(result.refusal?.verifier).toBe("egress_host");
    expect(result.change).toMatchObject({ state: "rejected", decidedBy: "verifier:egress_host" });
    expect(gateway.list(OPERATOR, { state: "pending" })).toEqual([]);
    expect(await codeOf(gateway.approve(OPERATOR, result.change.id, { digest: result.change.digest }))).toBe(
      "IC_CHANGE_CONFLICT",
    );
    await gateway.close();
  });

  it("refuses a malformed request with a record of it, and stores no change", async () => {
    const dir = await newDir();
    const gateway = await withAgent(dir);
    for (const body of [
      { kind: "root_shell", payload: {} },
      { kind: "persona", payload: { agent: "alpha", persona: { name: "x", instructions: "" }, extra: 1 } },
      { kind: "persona", payload: { agent: "alpha" }, id: "c77" },
      null,
    ]) {
      expect(await codeOf(gateway.submit(OPERATOR, body))).toBe("IC_CHANGE_INVALID");
    }
    expect(gateway.list(OPERATOR)).toHaveLength(1);
    await gateway.close();
    expect((await records(dir)).filter((r) => r.type === "change.refused")).toHaveLength(4);
  });

  it("expires a pending change after its TTL, and an expired change cannot be approved", async () => {
    const dir = await newDir();
    const clock = manualClock();
    const gateway = await withAgent(dir, { now: clock.now, ttlMs: 60_000 });
    const { change } = await gateway.submit(OPERATOR, {
      kind: "wiring",
      payload: { agent: "alpha", peers: [] },
    });
    clock.advance(60_001);
    expect(await codeOf(gateway.approve(OPERATOR, change.id, { digest: change.digest }))).toBe(
      "IC_CHANGE_CONFLICT",
    );
    expect(gateway.show(OPERATOR, change.id).state).toBe("expired");
    await gateway.close();
  });

  it("expires by deadline even when the TTL changed between runs", async () => {
    const dir = await newDir();
    const clock = manualClock();
    const first = await withAgent(dir, { now: clock.now, ttlMs: 600_000 });
    const long = await first.submit(OPERATOR, { kind: "wiring", payload: { agent: "alpha", peers: [] } });
    await first.close();
    const second = await Gateway.open({ stateDir: dir, now: clock.now, ttlMs: 60_000 });
    const short = await second.submit(OPERATOR, { kind: "wiring", payload: { agent: "alpha", peers: [] } });
    clock.advance(60_001);
    await second.expireDue();
    expect(second.show(OPERATOR, short.change.id).state).toBe("expired");
    expect(second.show(OPERATOR, long.change.id).state).toBe("pending");
    clock.advance(600_000);
    await second.expireDue();
    expect(second.show(OPERATOR, long.change.id).state).toBe("expired");
    await second.close();
  });

  it("records a failed application, and an operator can retry it", async () => {
    const dir = await newDir();
    let fail = true;
    const gateway = await Gateway.open({
      stateDir: dir,
      effects: {
        createAgentCredentials: async () => {
          if (fail) throw new Error("disk full");
        },
      },
    });
    const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
    expect(await codeOf(gateway.approve(SECOND_OPERATOR, change.id, { digest: change.digest }))).toBe(
      "IC_CHANGE_APPLY_FAILED",
    );
    expect(gateway.show(OPERATOR, change.id)).toMatchObject({
      state: "apply_failed",
      applyError: "disk full",
    });
    expect(gateway.registry.agents.alpha).toBeUndefined();
    expect(await codeOf(gateway.retry(VIEWER, change.id, {}))).toBe("IC_API_FORBIDDEN");
    fail = false;
    expect((await gateway.retry(OPERATOR, change.id, {})).state).toBe("applied");
    expect(gateway.registry.agents.alpha).toBeDefined();
    await gateway.close();
  });

  it("rebuilds the same state from the log after a restart", async () => {
    const dir = await newDir();
    const first = await withAgent(dir);
    const egress = await first.submit(OPERATOR, {
      kind: "egress",
      payload: { agent: "alpha", action: "allow", host: "a.example.com", port: 443 },
    });
    await first.approve(OPERATOR, egress.change.id, { digest: egress.change.digest });
    expect(first.registry.agents.alpha?.egress).toEqual([{ host: "a.example.com", port: 443 }]);
    await first.submit(OPERATOR, { kind: "wiring", payload: { agent: "alpha", peers: [] } });
    const registry = first.registry;
    const changes = first.list(OPERATOR);
    await first.close();
    const second = await Gateway.open({ stateDir: dir });
    expect(second.registry).toEqual(registry);
    expect(second.list(OPERATOR).map((c) => [c.id, c.state, c.digest])).toEqual(
      changes.map((c) => [c.id, c.state, c.digest]),
    );
    await second.close();
  });
});

describe("the gateway's start", () => {
  it("cuts a torn last record, reports it, and records the repair", async () => {
    const dir = await newDir();
    const first = await withAgent(dir);
    await first.close();
    const { appendFile } = await import("node:fs/promises");
    await appendFile(join(dir, "events.jsonl"), '{"seq":99,"time":"2026-11-');
    const second = await Gateway.open({ stateDir: dir });
    expect(second.recovery.truncatedBytes).toBe(26);
    expect(second.registry.agents.alpha).toBeDefined();
    await second.close();
    const repaired = (await records(dir)).find((r) => r.type === "gateway.recovered");
    expect(repaired).toMatchObject({ truncatedBytes: 26 });
    expect((await verifyEventLog({ dir })).ok).toBe(true);
  });

  it("refuses to start on a log with a damaged record in the middle, naming it", async () => {
    const dir = await newDir();
    const first = await withAgent(dir);
    await first.close();
    const text = await readFile(join(dir, "events.jsonl"), "utf8");
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "events.jsonl"), text.replace('"agent":"alpha"', '"agent":"omega"'));
    const damaged = JSON.parse(text.split("\n").find((l) => l.includes('"agent":"alpha"')) as string);
    const error = await Gateway.open({ stateDir: dir }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_AUDIT_CORRUPT", record: damaged.seq });
  });

  it("refuses a mount whose source is a symbolic link out of the mounts root", async () => {
    const dir = await newDir();
    const root = await newDir("ironclaw-mounts-");
    const { mkdir, symlink } = await import("node:fs/promises");
    await mkdir(join(root, "data"));
    await symlink("/etc", join(root, "escape"));
    const gateway = await withAgent(dir, { mountsRoot: root });
    const mount = (source: string) =>
      gateway.submit(OPERATOR, {
        kind: "mounts",
        payload: { agent: "alpha", mounts: [{ source, target: "/mnt/x", readOnly: true }] },
      });
    expect((await mount("escape")).refusal).toMatchObject({ verifier: "mounts_contained" });
    expect((await mount("escape")).refusal?.reason).toContain("outside the mounts root");
    expect((await mount("data")).refusal).toBeUndefined();
    await gateway.close();
  });
});

describe("reading the audit log", () => {
  it("returns every record appended before the read, even one whose commit is still syncing", async () => {
    const dir = await newDir();
    const gateway = await Gateway.open({ stateDir: dir });
    // Not awaited, as the egress broker reports a refusal and answers the agent at once.
    gateway.recordSecurityEvent({ type: "egress.request", agent: "alpha", decision: "denied" });
    const records = await gateway.audit(0, 1000);
    expect(records.at(-1)).toMatchObject({ type: "egress.request", decision: "denied" });
    await gateway.close();
  });
});
