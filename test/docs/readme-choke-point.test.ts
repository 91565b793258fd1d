import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../packages/sandbox/test/sandbox-gate.js";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const readme = readFileSync(join(root, "README.md"), "utf8");
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");

/** The README's "choke point" block, exactly as a user would paste it. */
function chokePointBlock(): string {
  const section = readme.slice(readme.indexOf("### The choke point"));
  return /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
}

const home = mkdtempSync(join(tmpdir(), "ironclaw-readme-home-"));
const env = { ...process.env, HOME: home, npm_config_update_notifier: "false" };
let upBanner = "";

/** The `up` the block left running in the background, found by the lock it holds. */
function stopBackgroundUp(): void {
  try {
    const pid = Number(readFileSync(join(home, ".ironclaw", "gateway.lock"), "utf8").trim());
    if (Number.isSafeInteger(pid) && pid > 0) process.kill(pid, "SIGTERM");
  } catch {
    // Not running: nothing to stop.
  }
}

afterAll(() => {
  stopBackgroundUp();
  rmSync(home, { recursive: true, force: true });
});

/** Resolves with everything `child` printed once `done` holds for it, or its exit, whichever is first. */
function output(child: ChildProcess, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const check = () => {
      if (done(text)) resolve(text);
    };
    child.stdout?.on("data", (chunk) => {
      text += String(chunk);
      check();
    });
    child.stderr?.on("data", (chunk) => {
      text += String(chunk);
      check();
    });
    // The background `up` keeps the pipes open, so the shell's exit is the other way to finish.
    child.on("exit", () => setImmediate(() => resolve(text)));
  });
}

describe.skipIf(skipRealSandbox)("README: the choke point, pasted as one block", () => {
  it("holds the change, then applies exactly what was approved, with its audit trail", async () => {
    const block = chokePointBlock();
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("npx --no-install ironclaw up --dev &");
    // Verbatim, through sh, from the repository (where npx finds this build): no sleeps, no waiting by
    // the test. `submit` runs while `up` is still starting; the CLI waits for it.
    const shell = spawn("sh", ["-c", block], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
    const [text, code] = await Promise.all([
      output(shell, (t) => t.includes("change.applied")),
      new Promise<number | null>((resolve) => shell.on("exit", resolve)),
    ]);
    expect(code, text).toBe(0);
    expect(text).toContain("listening on http://127.0.0.1:7878");
    expect(text).toContain("HELD  c1  create_agent for agent demo");
    // The digest the README approves is the one this submission printed.
    const digest = /--digest (sha256:[0-9a-f]{64})/.exec(lines[2] as string)?.[1];
    expect(text).toContain(`digest        ${digest}`);
    expect(text).toContain("APPLIED  c1  create_agent for agent demo");
    expect(text).toMatch(/change\.submitted[\s\S]*change\.approved[\s\S]*change\.applied/);

    const verify = spawnSync(process.execPath, [bin, "audit", "verify"], { env, encoding: "utf8" });
    expect(verify.status, verify.stdout).toBe(0);
    upBanner = text;
  }, 60_000);

  it("then runs demo, the scripted agent, in its own sandbox, and it reports in", async () => {
    // `up --dev` runs the new agent sealed in its own sandbox (bubblewrap is required here).
    expect(upBanner).toContain("agents: each in its own bubblewrap sandbox");
    // Followed, not polled: the audit log shows the agent's first message when it is written.
    const follower = spawn(process.execPath, [bin, "audit", "--follow", "--json"], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      await output(follower, (t) =>
        t
          .split("\n")
          .some((line) => line.includes('"type":"agent.message"') && line.includes('"from":"agent:demo"')),
      );
    } finally {
      follower.kill("SIGTERM");
    }
    const said = spawnSync(process.execPath, [bin, "agents", "messages", "demo"], { env, encoding: "utf8" });
    expect(said.stdout).toContain("agent:demo: ready");
  }, 60_000);
});
