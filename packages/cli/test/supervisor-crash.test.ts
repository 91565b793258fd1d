import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, startControlPlane } from "@ironclaw/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { AgentSupervisor } from "../src/runtime/supervisor.js";
import { until } from "./supervisor-support.js";

// A runtime that exits at once, in a real sandbox: the supervisor must back off and give up.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "ironclaw-supervisor-crash-"));
  await mkdir(join(work, "runtime"));
  await writeFile(join(work, "runtime", "crash.mjs"), "process.exit(3);\n");
});
afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(skipRealSandbox)("a sandbox that keeps crashing", () => {
  let crashPlane: ControlPlane;
  let crashing: AgentSupervisor;
  const crashes: string[] = [];

  beforeAll(async () => {
    const stateDir = join(work, "crash-state");
    crashPlane = await startControlPlane({ stateDir, dev: true, listen: "127.0.0.1:0" });
    crashing = new AgentSupervisor({
      stateDir,
      gateway: crashPlane.gateway,
      runtimeDir: join(work, "runtime"),
      entry: "crash.mjs",
      crashBackoff: { firstMs: 300, maxMs: 600, attempts: 3 },
      onExit: (agent, code) => crashes.push(`${agent}:${String(code)}`),
    });
    await crashing.start();
  }, 60_000);

  afterAll(async () => {
    await crashing?.close();
    await crashPlane?.close();
  });

  it("is relaunched with a doubling back-off, a bounded number of times, and the status says so", async () => {
    const operator = (await readFile(join(work, "crash-state", "tokens", "operator.token"), "utf8")).trim();
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${crashPlane.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as { change: { id: string; digest: string } };
    const approveNow = async (kind: string, payload: unknown) => {
      const { change } = await post("/v1/changes", { kind, payload });
      await post(`/v1/changes/${change.id}/approve`, { digest: change.digest });
    };
    const started = Date.now();
    await approveNow("create_agent", { agent: "crashy" });
    await until("the first relaunch to be scheduled", () =>
      crashing.status("crashy").startsWith("restarting in"),
    );
    expect(crashing.status("crashy")).toMatch(/^restarting in [01]s after exit 3 \(attempt 1 of 3\)$/);
    await until("giving up", () => crashing.status("crashy").startsWith("stopped after"));
    // 1 launch + 3 relaunches, after 300 + 600 + 600 ms of waiting.
    expect(crashes).toEqual(["crashy:3", "crashy:3", "crashy:3", "crashy:3"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(crashing.status("crashy")).toBe(
      "stopped after 4 failures in a row (last: exit 3); it starts again on the next approved change to its sandbox",
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(crashes).toHaveLength(4);

    // A change to the sandbox earns a fresh, equally bounded, series.
    await approveNow("permissions", { agent: "crashy", grants: ["workspace.read"] });
    await until("a new series to end", () => crashes.length === 8, 20_000);
    await until("giving up again", () => crashing.status("crashy").startsWith("stopped after 4"));
  }, 60_000);
});
