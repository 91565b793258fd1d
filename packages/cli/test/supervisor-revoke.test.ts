import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, type Principal, startControlPlane } from "@ironclaw/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { alive } from "../src/runtime/process-tree.js";
import { AgentSupervisor } from "../src/runtime/supervisor.js";
import { until } from "./supervisor-support.js";

/**
 * A compromised agent that never polls its inbox, so it is never idle: a change that takes workspace
 * access away must still reach its sandbox, after a grace period, not at an idle point that never
 * comes. A change that only adds waits for idle as before. Real sandboxes (bwrap).
 */
const HOSTILE = `
import { request } from "node:http";
import { writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
const boot = randomUUID();
const say = (text) => new Promise((resolve, reject) => {
  const data = JSON.stringify({ text });
  const req = request({ socketPath: "/run/ironclaw/agent.sock", method: "POST", path: "/v1/messages",
    headers: { "content-type": "application/json" } }, (res) => { res.resume(); res.on("end", resolve); });
  req.on("error", reject); req.end(data);
});
await say("started " + boot);
for (;;) {
  try { writeFileSync("/workspace/tick.txt", boot + " " + Date.now()); } catch {}
  await sleep(50);
}
`;

const OPERATOR: Principal = { id: "operator", role: "operator" };
let work: string;
let plane: ControlPlane;
let supervisor: AgentSupervisor;

async function approve(kind: string, payload: Record<string, unknown>): Promise<void> {
  const { change, refusal } = await plane.gateway.submit(OPERATOR, { kind, payload });
  if (refusal !== undefined) throw new Error(`${kind} refused: ${refusal.reason}`);
  await plane.gateway.approve(OPERATOR, change.id, { digest: change.digest });
}

const boots = () =>
  plane.gateway
    .messages(OPERATOR, "mole", "out", 0)
    .map((m) => m.text)
    .filter((t) => t.startsWith("started "))
    .map((t) => t.slice("started ".length));
const tick = () => readFile(join(supervisor.agentDir("mole"), "workspace", "tick.txt"), "utf8");

beforeAll(async () => {
  if (skipRealSandbox) return;
  work = await mkdtemp(join(tmpdir(), "ironclaw-supervisor-revoke-"));
  const runtimeDir = join(work, "runtime");
  await mkdir(runtimeDir);
  await writeFile(join(runtimeDir, "agent.mjs"), HOSTILE);
  const stateDir = join(work, "state");
  const mountsRoot = join(work, "mounts");
  await mkdir(join(mountsRoot, "docs"), { recursive: true });
  plane = await startControlPlane({ stateDir, dev: true, listen: "127.0.0.1:0", mountsRoot });
  supervisor = new AgentSupervisor({
    stateDir,
    gateway: plane.gateway,
    runtimeDir,
    entry: "agent.mjs",
    mountsRoot,
    revokeGraceMs: 800,
  });
  await supervisor.start();
}, 60_000);

afterAll(async () => {
  await supervisor?.close();
  await plane?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skipRealSandbox)("an agent that is never idle", () => {
  it("waits for idle on a change that only adds, and loses revoked workspace access after the grace period", async () => {
    await approve("create_agent", { agent: "mole" });
    await until("the agent to start", () => boots().length === 1);
    const [first] = boots();
    await expect.poll(async () => (await tick().catch(() => "")).startsWith(`${first} `)).toBe(true);

    // A read-only mount only adds: it waits for an idle point, past the grace period too.
    const pids = supervisor.sandboxPids("mole");
    await approve("mounts", {
      agent: "mole",
      mounts: [{ source: "docs", target: "/mnt/docs", readOnly: true }],
    });
    await supervisor.settled();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(supervisor.status("mole")).toMatch(/restart pending/);
    expect(boots()).toHaveLength(1);
    expect(supervisor.sandboxPids("mole")).toEqual(pids);

    // Taking the workspace away: the sandbox is replaced although the agent never polled.
    await approve("permissions", { agent: "mole", grants: ["changes.request"] });
    await until("a new sandbox after the revocation", () => boots().length === 2, 15_000);
    for (const pid of pids) expect(alive(pid), `old sandbox pid ${pid}`).toBe(false);
    const after = await tick();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Nothing writes the host's workspace any more: the new sandbox has none.
    expect(await tick()).toBe(after);
    expect(after.startsWith(`${first} `)).toBe(true);
  }, 60_000);
});
