import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyEventLog } from "@ironclaw/gateway";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, runCli } from "./helpers.js";

/**
 * The real `ironclaw up`, killed with SIGKILL at random moments while clients submit and approve
 * changes over loopback. Every restart must recover, the chain must verify, and every change the API
 * acknowledged must be in the log with the digest it was acknowledged with.
 */
const CYCLES = 20;
const CLIENTS = 12;

let stateDir: string;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
}

async function up(state: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [BIN, "up", "--dev", "--no-agents", "--listen", "127.0.0.1:0", "--state", state, "--json"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  for await (const chunk of child.stdout ?? []) {
    out += String(chunk);
    if (out.trimEnd().endsWith("}")) break;
  }
  if (!out.trimEnd().endsWith("}")) throw new Error(`ironclaw up did not start: ${out}${err}`);
  return { child, url: (JSON.parse(out) as { url: string }).url, exited };
}

afterAll(async () => {
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
});

describe("ironclaw up under SIGKILL", () => {
  it(`recovers after ${CYCLES} kills under load and loses no acknowledged change`, async () => {
    // A real disk, so fsync means what it means.
    stateDir = await mkdtemp(join(tmpdir(), "ironclaw-crash-"));
    const acknowledged = new Map<string, string>();
    let torn = 0;
    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      const running = await up(stateDir);
      // Every restart: the chain verifies, and nothing acknowledged before is missing.
      const check = await verifyEventLog({ dir: stateDir });
      expect(check.failure).toBeUndefined();
      const token = (await readFile(join(stateDir, "tokens", "operator.token"), "utf8")).trim();
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      let stop = false;
      let serial = 0;
      const clients = Array.from({ length: CLIENTS }, async () => {
        while (!stop) {
          const agent = `k${cycle}x${serial++}`;
          try {
            const response = await fetch(`${running.url}/v1/changes`, {
              method: "POST",
              headers,
              body: JSON.stringify({ kind: "create_agent", payload: { agent } }),
            });
            if (response.status !== 201) continue;
            const { change } = (await response.json()) as { change: { id: string; digest: string } };
            acknowledged.set(change.id, change.digest);
            if (serial % 3 === 0) {
              const approved = await fetch(`${running.url}/v1/changes/${change.id}/approve`, {
                method: "POST",
                headers,
                body: JSON.stringify({ digest: change.digest }),
              });
              await approved.body?.cancel();
            }
          } catch {
            // The server died mid-request: that request was never acknowledged.
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));
      running.child.kill("SIGKILL");
      await running.exited;
      stop = true;
      await Promise.all(clients);
      const raw = await readFile(join(stateDir, "events.jsonl"));
      if (raw.length > 0 && raw[raw.length - 1] !== 0x0a) torn += 1;
    }
    if (process.env.IRONCLAW_TEST_VERBOSE)
      console.log(`acknowledged ${acknowledged.size}, torn tails ${torn}`);
    const last = await up(stateDir);
    last.child.kill("SIGTERM");
    await last.exited;

    const report = await verifyEventLog({ dir: stateDir });
    expect(report.failure).toBeUndefined();
    expect(report.ok).toBe(true);
    const submitted = new Map<string, string>();
    for (const line of (await readFile(join(stateDir, "events.jsonl"), "utf8")).split("\n")) {
      if (line === "") continue;
      const record = JSON.parse(line) as { type: string; id?: string; digest?: string };
      if (record.type === "change.submitted") submitted.set(record.id as string, record.digest as string);
    }
    expect(acknowledged.size).toBeGreaterThan(CYCLES);
    for (const [id, digest] of acknowledged) expect(submitted.get(id), id).toBe(digest);
    const recovered = (await readFile(join(stateDir, "events.jsonl"), "utf8")).includes(
      '"gateway.recovered"',
    );
    expect(recovered || torn === 0).toBe(true);

    const cli = await runCli(["audit", "verify", "--state", stateDir], { cwd: stateDir });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/hash chain intact/);
  }, 300_000);
});
