import { appendFile, open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changeDigest } from "../../src/changes/change.js";
import { Gateway } from "../../src/gateway.js";
import { signCheckpoint } from "../../src/log/checkpoint.js";
import { SEAL_FILE, writeSeal } from "../../src/log/head-seal.js";
import { hostKeyFromPrivatePem } from "../../src/log/host-key.js";
import { EventLog, type NewEvent, verifyEventLog } from "../../src/log/index.js";
import { sealRecord } from "../../src/log/record.js";
import { agentNamed } from "../../src/registry.js";
import { verifyGatewayLog } from "../../src/verify-gateway-log.js";
import { agentPrincipal, manualClock, OPERATOR, temporaryDirectories } from "../helpers.js";

/**
 * Finding 3 of the adversarial audit: records appended by hand after the last checkpoint, hash-chained
 * correctly, were accepted: submitted, approved by a principal that does not exist with a zero digest,
 * applied. The fold now checks each record as the live gateway would have before writing it.
 */
const newDir = temporaryDirectories();
const ZERO_DIGEST = `sha256:${"0".repeat(64)}`;

/** A state directory where agent alpha exists and alpha has asked for c2 (pending); closed. */
async function base(): Promise<string> {
  const dir = await newDir();
  const gateway = await Gateway.open({ stateDir: dir });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  await gateway.submit(agentPrincipal("alpha"), {
    kind: "enabled_tools",
    payload: { agent: "alpha", tools: ["read_file"] },
  });
  await gateway.close();
  return dir;
}

/**
 * Appends events as an intruder who can write the file would: the chain continued correctly. With
 * `signed`, the intruder also holds the host key and seals the new head (head.sig, both slots).
 */
async function forge(dir: string, events: readonly NewEvent[], signed = true): Promise<number> {
  const lines = (await readFile(join(dir, "events.jsonl"), "utf8")).trim().split("\n");
  const last = JSON.parse(lines.at(-1) as string) as { seq: number; hash: string };
  let { seq, hash } = last;
  let text = "";
  for (const event of events) {
    const sealed = sealRecord(event, seq + 1, new Date().toISOString(), hash);
    seq = sealed.record.seq;
    hash = sealed.record.hash;
    text += sealed.line;
  }
  await appendFile(join(dir, "events.jsonl"), text);
  if (signed) {
    const key = hostKeyFromPrivatePem(await readFile(join(dir, "host-key.pem"), "utf8"));
    const handle = await open(join(dir, SEAL_FILE), "r+");
    for (const slot of [0, 1])
      await writeSeal(handle, slot, signCheckpoint(key, { seq, hash }, new Date().toISOString()));
    await handle.close();
  }
  return last.seq + 1;
}

function submission(id: string, requester: string, requesterRole: string, agent = "alpha"): NewEvent {
  const payload = { agent, tools: ["shell_exec"] };
  const digest = changeDigest({ id, kind: "enabled_tools", payload, requester });
  return {
    type: "change.submitted",
    id,
    kind: "enabled_tools",
    agent,
    payload,
    digest,
    requester,
    requesterRole,
    expiresAt: "2099-01-01T00:00:00.000Z",
    verifiers: [],
  };
}

const c2Digest = async (dir: string) => {
  const gateway = await Gateway.open({ stateDir: dir });
  const digest = gateway.show(OPERATOR, "c2").digest;
  await gateway.close();
  return digest;
};

interface Forgery {
  readonly name: string;
  /** The events, and the index among them of the record that must be named. */
  events(dir: string): Promise<{ events: NewEvent[]; bad: number }>;
}

const FORGERIES: readonly Forgery[] = [
  {
    name: "the audit's forgery: approved by nobody with a zero digest, then applied",
    async events() {
      return {
        events: [
          submission("c3", "operator", "operator"),
          { type: "change.approved", id: "c3", by: "mallory", digest: ZERO_DIGEST },
          { type: "change.applied", id: "c3", digest: ZERO_DIGEST },
        ],
        bad: 1,
      };
    },
  },
  {
    name: "approved by the real operator, but with another digest",
    async events() {
      return { events: [{ type: "change.approved", id: "c2", by: "operator", digest: ZERO_DIGEST }], bad: 0 };
    },
  },
  {
    name: "approved by an agent principal the log recorded",
    async events(dir) {
      return {
        events: [{ type: "change.approved", id: "c2", by: "agent:alpha", digest: await c2Digest(dir) }],
        bad: 0,
      };
    },
  },
  {
    name: "applied with no approval",
    async events(dir) {
      return { events: [{ type: "change.applied", id: "c2", digest: await c2Digest(dir) }], bad: 0 };
    },
  },
  {
    name: "a submission whose digest is not its content's",
    async events() {
      return { events: [{ ...submission("c3", "operator", "operator"), digest: ZERO_DIGEST }], bad: 0 };
    },
  },
  {
    name: "a submission by a principal the log never recorded",
    async events() {
      return { events: [submission("c3", "root", "operator")], bad: 0 };
    },
  },
  {
    name: "a submission that skips a change number",
    async events() {
      return { events: [submission("c7", "operator", "operator")], bad: 0 };
    },
  },
  {
    name: "a principal recorded again with another role",
    async events() {
      return { events: [{ type: "principal.recorded", id: "agent:alpha", role: "operator" }], bad: 0 };
    },
  },
  {
    name: "a verifier's rejection long after the submission",
    async events() {
      return {
        events: [{ type: "change.rejected", id: "c2", by: "verifier:pending_cap", reason: "x" }],
        bad: 0,
      };
    },
  },
  {
    name: "an agent cancelling a change it did not ask for",
    async events() {
      return {
        events: [
          { type: "principal.recorded", id: "agent:beta", role: "agent" },
          submission("c3", "operator", "operator"),
          { type: "change.cancelled", id: "c3", by: "agent:beta" },
        ],
        bad: 2,
      };
    },
  },
  {
    name: "a message into alpha's inbox from an agent without messages.send",
    async events() {
      return {
        events: [
          { type: "agent.message", agent: "alpha", direction: "in", from: "agent:alpha", text: "obey" },
        ],
        bad: 0,
      };
    },
  },
  {
    name: "a message into alpha's inbox from an agent that does not exist",
    async events() {
      return {
        events: [
          { type: "agent.message", agent: "alpha", direction: "in", from: "agent:ghost", text: "obey" },
        ],
        bad: 0,
      };
    },
  },
];

describe("a forged tail after the last checkpoint", () => {
  it("without the host key is an unsigned tail: verify names it, up moves it aside and folds none of it", async () => {
    const dir = await base();
    const first = await forge(
      dir,
      [
        { type: "principal.recorded", id: "mallory", role: "operator" },
        { type: "change.approved", id: "c2", by: "mallory", digest: await c2Digest(dir) },
        { type: "change.applied", id: "c2", digest: await c2Digest(dir) },
      ],
      false,
    );
    // Semantically a valid approval: only the missing signature gives it away.
    expect((await verifyEventLog({ dir })).failure).toMatchObject({
      code: "IC_AUDIT_UNSIGNED",
      record: first,
    });
    expect((await verifyGatewayLog({ dir })).failure).toMatchObject({
      code: "IC_AUDIT_UNSIGNED",
      record: first,
    });
    const gateway = await Gateway.open({ stateDir: dir });
    expect(gateway.show(OPERATOR, "c2").state).toBe("pending");
    expect(agentNamed(gateway.registry, "alpha")?.tools).toEqual([]);
    expect(gateway.recovery).toMatchObject({ unsignedRecords: 3, records: first - 1 });
    await gateway.close();
    const aside = (await readdir(dir)).filter((name) => name.startsWith("events.unsigned-"));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dir, aside[0] as string), "utf8")).toContain('"by":"mallory"');
    const log = (await readFile(join(dir, "events.jsonl"), "utf8")).trim().split("\n");
    expect(log.some((line) => line.includes("mallory"))).toBe(false);
    expect(log.some((line) => line.includes('"unsignedRecords":3'))).toBe(true);
    expect(await verifyGatewayLog({ dir })).toMatchObject({ ok: true });
  });

  for (const forgery of FORGERIES) {
    it(`is refused by up and named by audit verify even when sealed with the host key: ${forgery.name}`, async () => {
      const dir = await base();
      const { events, bad } = await forgery.events(dir);
      const first = await forge(dir, events);
      const badSeq = first + bad;
      // The hash chain alone is intact: that is what made the forgery pass before.
      expect((await verifyEventLog({ dir })).ok).toBe(true);
      const report = await verifyGatewayLog({ dir });
      expect(report.ok).toBe(false);
      expect(report.failure).toMatchObject({ code: "IC_AUDIT_CORRUPT", record: badSeq });
      await expect(Gateway.open({ stateDir: dir })).rejects.toMatchObject({
        code: "IC_AUDIT_CORRUPT",
        record: badSeq,
      });
    });
  }

  it("every record the live gateway writes passes the same checks", async () => {
    const dir = await newDir();
    const clock = manualClock();
    let attempts = 0;
    const gateway = await Gateway.open({
      stateDir: dir,
      now: clock.now,
      ttlMs: 60_000,
      effects: {
        createAgentCredentials: async () => {
          attempts += 1;
          if (attempts === 2) throw new Error("disk full");
        },
      },
    });
    const alpha = agentPrincipal("alpha");
    const created = (await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "alpha" } }))
      .change;
    await gateway.approve(OPERATOR, created.id, { digest: created.digest });
    const failing = (await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "beta" } }))
      .change;
    await expect(gateway.approve(OPERATOR, failing.id, { digest: failing.digest })).rejects.toMatchObject({
      code: "IC_CHANGE_APPLY_FAILED",
    });
    await gateway.retry(OPERATOR, failing.id, {});
    const tools = { kind: "enabled_tools", payload: { agent: "alpha", tools: ["read_file"] } };
    const refused = await gateway.submit(alpha, {
      kind: "enabled_tools",
      payload: { agent: "alpha", tools: ["nope"] },
    });
    expect(refused.refusal).toBeDefined();
    const cancelled = (await gateway.submit(alpha, tools)).change;
    await gateway.cancel(alpha, cancelled.id, {});
    const rejected = (await gateway.submit(alpha, tools)).change;
    await expect(gateway.approve(OPERATOR, rejected.id, { digest: ZERO_DIGEST })).rejects.toMatchObject({
      code: "IC_CHANGE_DIGEST_MISMATCH",
    });
    await gateway.reject(OPERATOR, rejected.id, { reason: "no" });
    await gateway.submit(alpha, tools);
    clock.advance(61_000);
    await gateway.expireDue();
    await gateway.close();
    const types = new Set(
      (await readFile(join(dir, "events.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => (JSON.parse(l) as { type: string }).type),
    );
    for (const type of [
      "change.expired",
      "change.retried",
      "change.cancelled",
      "change.apply_failed",
      "change.rejected",
    ]) {
      expect(types).toContain(type);
    }
    expect(await verifyGatewayLog({ dir })).toMatchObject({ ok: true });
    const reopened = await Gateway.open({ stateDir: dir });
    expect(reopened.show(OPERATOR, failing.id).state).toBe("applied");
    await reopened.close();
  });
});

describe("a log begun before principals were recorded", () => {
  it("still opens, and is held to the recorded principals from the first start that records them", async () => {
    const dir = await newDir();
    // What a gateway before lifecycle 2 wrote: no principal.recorded, no lifecycle in gateway.started.
    const { log } = await EventLog.open({ dir });
    const create = { agent: "alpha" };
    const createDigest = changeDigest({
      id: "c1",
      kind: "create_agent",
      payload: create,
      requester: "operator",
    });
    const legacy: NewEvent[] = [
      { type: "gateway.started", pid: 1 },
      {
        type: "change.submitted",
        id: "c1",
        kind: "create_agent",
        agent: "alpha",
        payload: create,
        digest: createDigest,
        requester: "operator",
        requesterRole: "operator",
        expiresAt: "2099-01-01T00:00:00.000Z",
        verifiers: [],
      },
      { type: "change.approved", id: "c1", by: "operator", digest: createDigest },
      { type: "change.applied", id: "c1", digest: createDigest },
      submission("c2", "agent:alpha", "agent"),
      { type: "gateway.stopped" },
    ];
    let last: Promise<void> = Promise.resolve();
    for (const event of legacy) last = log.append(event).durable;
    await last;
    await log.close();

    const gateway = await Gateway.open({ stateDir: dir });
    expect(agentNamed(gateway.registry, "alpha")?.name).toBe("alpha");
    const c2 = gateway.show(OPERATOR, "c2");
    expect((await gateway.approve(OPERATOR, "c2", { digest: c2.digest })).state).toBe("applied");
    await gateway.close();
    expect(await verifyGatewayLog({ dir })).toMatchObject({ ok: true });

    // After that start, an author the log never recorded is refused, even sealed with the host key.
    const c3 = submission("c3", "operator", "operator");
    const first = await forge(dir, [
      c3,
      { type: "change.approved", id: "c3", by: "mallory", digest: c3.digest as string },
    ]);
    expect((await verifyGatewayLog({ dir })).failure).toMatchObject({
      code: "IC_AUDIT_CORRUPT",
      record: first + 1,
    });
  });
});
