import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, startControlPlane } from "@ironclaw/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { alive } from "../src/runtime/process-tree.js";
import { AgentSupervisor } from "../src/runtime/supervisor.js";
import { agentSaid, agentSays as agentSaysOf, operatorCall } from "./operator-api.js";
import { until } from "./supervisor-support.js";

/**
 * The supervisor against real sandboxes and a real control plane: what an approved mount or workspace
 * grant changes, that the change waits for the agent to be idle (never mid-task), that the old
 * sandbox is gone before the new one starts and the workspace persists, and that a crash loop is
 * bounded. The runtime is a small agent written here: it says what it can see and do.
 */
const AGENT = `
import { request } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
const call = (method, path, body) => new Promise((resolve, reject) => {
  const data = body === undefined ? undefined : JSON.stringify(body);
  const req = request({ socketPath: "/run/ironclaw/agent.sock", method, path,
    headers: data === undefined ? {} : { "content-type": "application/json" } }, (res) => {
    let text = ""; res.setEncoding("utf8"); res.on("data", (c) => { text += c; });
    res.on("end", () => resolve(JSON.parse(text)));
  });
  req.on("error", reject); req.end(data);
});
const say = (text) => call("POST", "/v1/messages", { text });
const attempt = (f) => { try { const v = f(); return v === undefined ? "ok" : v; } catch (e) { return e.code ?? e.name; } };
const boot = randomUUID();
let after = Number(process.env.IRONCLAW_MESSAGES_AFTER ?? "0");
await say("started " + boot);
for (;;) {
  const { messages } = await call("GET", "/v1/messages?after=" + after);
  for (const { seq, text } of messages) {
    after = seq;
    if (text === "report") await say("report " + JSON.stringify({
      boot,
      notes: attempt(() => readFileSync("/workspace/notes.txt", "utf8")),
      writeWorkspace: attempt(() => writeFileSync("/workspace/probe.txt", boot)),
      docs: attempt(() => readFileSync("/mnt/docs/readme.txt", "utf8")),
      writeDocs: attempt(() => writeFileSync("/mnt/docs/written.txt", boot)),
      scratch: attempt(() => writeFileSync("/mnt/scratch/from-agent.txt", boot)),
    }));
    else if (text.startsWith("read ")) await say("read " + attempt(() => readFileSync(text.slice(5), "utf8")));
    else if (text.startsWith("note ")) await say("noted " + attempt(() => writeFileSync("/workspace/notes.txt", text.slice(5))));
    else if (text.startsWith("work ")) { await say("working " + boot); await sleep(Number(text.slice(5))); await say("worked " + boot); }
  }
  await sleep(50);
}
`;

interface Report {
  boot: string;
  notes: string;
  writeWorkspace: string;
  docs: string;
  writeDocs: string;
  scratch: string;
}

let work: string;
let mountsRoot: string;
let plane: ControlPlane;
let supervisor: AgentSupervisor;
let operatorToken: string;
const exits: string[] = [];

function api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  return operatorCall(plane.url, operatorToken, method, path, body);
}

async function submit(
  kind: string,
  payload: Record<string, unknown>,
): Promise<{ id: string; digest: string }> {
  const { change } = (await api("POST", "/v1/changes", { kind, payload })) as {
    change: { id: string; digest: string; state: string };
  };
  return change;
}

async function approve(change: { id: string; digest: string }): Promise<void> {
  await api("POST", `/v1/changes/${change.id}/approve`, { digest: change.digest });
}

const said = (agent: string) => agentSaid(plane.url, operatorToken, agent);
/** Waits until the agent has said something matching that it had not said before `skip` messages. */
const says = (agent: string, pattern: RegExp, skip = 0, timeoutMs = 20_000) =>
  agentSaysOf(plane.url, operatorToken, agent, pattern, { since: skip, timeoutMs, pollMs: 50 });

/** Sends "report" and returns the answer. */
async function report(agent: string): Promise<Report> {
  const skip = (await said(agent)).length;
  await api("POST", `/v1/agents/${agent}/messages`, { text: "report" });
  return JSON.parse((await says(agent, /^report /, skip)).slice("report ".length)) as Report;
}

/** Approves a change that alters the sandbox and waits for the agent to come back in a new one. */
async function approveAndRestart(agent: string, change: { id: string; digest: string }): Promise<string> {
  const skip = (await said(agent)).length;
  await approve(change);
  return (await says(agent, /^started /, skip)).slice("started ".length);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ironclaw-supervisor-sandbox-"));
  mountsRoot = join(work, "mounts");
  await mkdir(join(mountsRoot, "docs"), { recursive: true });
  await mkdir(join(mountsRoot, "scratch"));
  await mkdir(join(work, "outside"));
  await writeFile(join(mountsRoot, "docs", "readme.txt"), "approved docs\n");
  await writeFile(join(work, "outside", "readme.txt"), "NOT APPROVED\n");
  const runtimeDir = join(work, "runtime");
  await mkdir(runtimeDir);
  await writeFile(join(runtimeDir, "agent.mjs"), AGENT);
  const stateDir = join(work, "state");
  plane = await startControlPlane({ stateDir, dev: true, listen: "127.0.0.1:0", mountsRoot });
  operatorToken = (await readFile(join(stateDir, "tokens", "operator.token"), "utf8")).trim();
  supervisor = new AgentSupervisor({
    stateDir,
    gateway: plane.gateway,
    runtimeDir,
    entry: "agent.mjs",
    mountsRoot,
    crashBackoff: { firstMs: 200, maxMs: 400, attempts: 2 },
    onExit: (agent, code) => exits.push(`${agent}:${String(code)}`),
  });
  await supervisor.start();
}, 60_000);

afterAll(async () => {
  await supervisor?.close();
  await plane?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skipRealSandbox)("the supervisor builds each sandbox from the registry", () => {
  it("has no workspace without a grant, a read-only one with workspace.read, a writable one with workspace.write", async () => {
    await approve(await submit("create_agent", { agent: "alpha" }));
    await says("alpha", /^started /);
    // A new agent holds both workspace grants: its workspace is writable.
    expect(await report("alpha")).toMatchObject({ notes: "ENOENT", writeWorkspace: "ok" });
    await approveAndRestart(
      "alpha",
      await submit("permissions", { agent: "alpha", grants: ["changes.request"] }),
    );
    const none = await report("alpha");
    expect(none).toMatchObject({ notes: "ERR_ACCESS_DENIED", writeWorkspace: "ERR_ACCESS_DENIED" });

    const read = await submit("permissions", { agent: "alpha", grants: ["workspace.read"] });
    const readBoot = await approveAndRestart("alpha", read);
    const ro = await report("alpha");
    expect(ro.boot).toBe(readBoot);
    // Visible, nothing there yet; a write is refused.
    expect(ro).toMatchObject({ notes: "ENOENT", writeWorkspace: "ERR_ACCESS_DENIED" });

    const write = await submit("permissions", {
      agent: "alpha",
      grants: ["workspace.read", "workspace.write"],
    });
    await approveAndRestart("alpha", write);
    const skip = (await said("alpha")).length;
    await api("POST", "/v1/agents/alpha/messages", { text: "note kept across restarts" });
    expect(await says("alpha", /^noted /, skip)).toBe("noted ok");
    expect(await readFile(join(supervisor.agentDir("alpha"), "workspace", "notes.txt"), "utf8")).toBe(
      "kept across restarts",
    );
    expect(supervisor.status("alpha")).toBe("running in its sandbox");
  }, 60_000);

  it("applies a mount only once the agent is idle, never mid-task; the old sandbox is gone first and the workspace persists", async () => {
    const before = await report("alpha");
    expect(before).toMatchObject({ docs: "ERR_ACCESS_DENIED", scratch: "ERR_ACCESS_DENIED" });
    const oldPids = supervisor.sandboxPids("alpha");
    expect(oldPids.length).toBeGreaterThanOrEqual(2);

    // A task of 3 s; the change is approved while it runs.
    const skip = (await said("alpha")).length;
    await api("POST", "/v1/agents/alpha/messages", { text: "work 3000" });
    await says("alpha", /^working /, skip);
    const mounts = await submit("mounts", {
      agent: "alpha",
      mounts: [
        { source: "docs", target: "/mnt/docs", readOnly: true },
        { source: "scratch", target: "/mnt/scratch", readOnly: false },
      ],
    });
    await approve(mounts);
    await supervisor.settled();
    expect(supervisor.status("alpha")).toBe(
      "running in its sandbox; restart pending: a change to its sandbox applies when it is next idle",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(supervisor.sandboxPids("alpha")).toEqual(oldPids);
    // The task finishes in the old sandbox, and only then does the new one start.
    const worked = await says("alpha", /^worked /, skip);
    expect(worked).toBe(`worked ${before.boot}`);
    const started = await says("alpha", /^started /, skip);
    const texts = (await said("alpha")).slice(skip);
    expect(texts.indexOf(worked)).toBeLessThan(texts.indexOf(`started ${started.slice(8)}`));
    for (const pid of oldPids) expect(alive(pid), `old sandbox pid ${pid}`).toBe(false);

    const after = await report("alpha");
    expect(after.boot).not.toBe(before.boot);
    expect(after).toMatchObject({
      notes: "kept across restarts",
      docs: "approved docs\n",
      writeDocs: "ERR_ACCESS_DENIED",
      scratch: "ok",
    });
    expect(await readFile(join(mountsRoot, "scratch", "from-agent.txt"), "utf8")).toBe(after.boot);
    expect(await readdir(join(mountsRoot, "docs"))).toEqual(["readme.txt"]);
    // Resumed where it was idle: nothing handled twice.
    const all = await said("alpha");
    expect(all.filter((text) => text.startsWith("worked "))).toHaveLength(1);
    expect(all.filter((text) => text.startsWith("noted "))).toHaveLength(1);
    expect(exits).toEqual([]);
  }, 60_000);

  it("refuses to start a sandbox whose mount source was swapped for a symlink out of the root after submission, and says so", async () => {
    await mkdir(join(mountsRoot, "late"));
    const change = await submit("mounts", {
      agent: "alpha",
      mounts: [
        { source: "docs", target: "/mnt/docs", readOnly: true },
        { source: "late", target: "/mnt/late", readOnly: true },
      ],
    });
    // The gateway saw a directory under the root; by launch it is a symlink to a directory outside.
    await rm(join(mountsRoot, "late"), { recursive: true });
    await symlink(join(work, "outside"), join(mountsRoot, "late"));
    await approve(change);
    await until("the refusal", () =>
      /refused to start: IC_SANDBOX_MOUNT_SOURCE/.test(supervisor.status("alpha")),
    );
    expect(supervisor.status("alpha")).toMatch(
      /^restarting in \d+s after refused to start: IC_SANDBOX_MOUNT_SOURCE: mount source "late": resolves to .*outside, outside the mounts root .* \(attempt 1 of 2\)$/,
    );
    expect(supervisor.sandboxPids("alpha")).toEqual([]);
    const { records } = (await api("GET", "/v1/audit?after=0&limit=1000")) as {
      records: { type: string; agent?: string; code?: string }[];
    };
    expect(records.filter((r) => r.type === "sandbox.refused")[0]).toMatchObject({
      agent: "alpha",
      code: "IC_SANDBOX_MOUNT_SOURCE",
    });
    // Bounded: after two more refusals it stops trying until the sandbox changes again.
    await until("giving up", () => supervisor.status("alpha").startsWith("stopped after 3 failures"));
    expect(supervisor.status("alpha")).toMatch(/it starts again on the next approved change to its sandbox$/);

    // The next change to the sandbox starts it at once: nothing runs, so no task is cut short.
    const fixed = await submit("mounts", {
      agent: "alpha",
      mounts: [{ source: "docs", target: "/mnt/docs", readOnly: true }],
    });
    await approveAndRestart("alpha", fixed);
    expect(await report("alpha")).toMatchObject({ notes: "kept across restarts", docs: "approved docs\n" });
    expect(supervisor.status("alpha")).toBe("running in its sandbox");
  }, 60_000);

  it("keeps an approval that does not alter the sandbox from restarting it", async () => {
    const pids = supervisor.sandboxPids("alpha");
    await approve(
      await submit("persona", { agent: "alpha", persona: { name: "Al", instructions: "Be brief." } }),
    );
    await supervisor.settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(supervisor.sandboxPids("alpha")).toEqual(pids);
    expect(supervisor.status("alpha")).toBe("running in its sandbox");
  }, 30_000);
});

describe.skipIf(skipRealSandbox)("names that are Object.prototype's", () => {
  it("mounts a source named constructor at /mnt/__proto__ for an agent named constructor", async () => {
    await mkdir(join(mountsRoot, "constructor"));
    await writeFile(join(mountsRoot, "constructor", "toString"), "just a file\n");
    await approve(await submit("create_agent", { agent: "constructor" }));
    await says("constructor", /^started /);
    const mount = await submit("mounts", {
      agent: "constructor",
      mounts: [{ source: "constructor", target: "/mnt/__proto__", readOnly: true }],
    });
    await approveAndRestart("constructor", mount);
    const skip = (await said("constructor")).length;
    await api("POST", "/v1/agents/constructor/messages", { text: "read /mnt/__proto__/toString" });
    expect(await says("constructor", /^read /, skip)).toBe("read just a file\n");
    expect(supervisor.status("constructor")).toBe("running in its sandbox");
    // Its neighbour is untouched by it.
    expect((await report("alpha")).docs).toBe("approved docs\n");
  }, 30_000);
});

describe.skipIf(skipRealSandbox)("a change to the sandbox undone before the agent is idle", () => {
  it("leaves the running sandbox as it is", async () => {
    const pids = supervisor.sandboxPids("alpha");
    const skip = (await said("alpha")).length;
    await api("POST", "/v1/agents/alpha/messages", { text: "work 1500" });
    await says("alpha", /^working /, skip);
    await approve(await submit("permissions", { agent: "alpha", grants: ["workspace.read"] }));
    await supervisor.settled();
    expect(supervisor.status("alpha")).toMatch(/restart pending/);
    await approve(
      await submit("permissions", { agent: "alpha", grants: ["workspace.read", "workspace.write"] }),
    );
    await supervisor.settled();
    expect(supervisor.status("alpha")).toBe("running in its sandbox");
    await says("alpha", /^worked /, skip);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(supervisor.sandboxPids("alpha")).toEqual(pids);
    expect((await said("alpha")).slice(skip).filter((text) => text.startsWith("started "))).toEqual([]);
  }, 30_000);
});
