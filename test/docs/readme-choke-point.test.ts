import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../packages/sandbox/test/sandbox-gate.js";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const readme = readFileSync(join(root, "README.md"), "utf8");
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");

/** The commands of the README's "choke point" block, as a user would paste them. */
function chokePointCommands(): string[] {
  const section = readme.slice(readme.indexOf("### The choke point"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block.split("\n").filter((line) => line.trim() !== "");
}

const home = mkdtempSync(join(tmpdir(), "ironclaw-readme-home-"));
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill("SIGTERM");
  rmSync(home, { recursive: true, force: true });
});

/** `npx ironclaw …` is the built command; arguments are split as sh would split these lines. */
function argv(line: string): string[] {
  const rest = line.replace(/^npx ironclaw /, "").replace(/ &$/, "");
  return [...rest.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

describe.skipIf(skipRealSandbox)("README: the choke point in two commands after `ironclaw up --dev`", () => {
  it("holds the change, then applies exactly what was approved, with its audit trail", async () => {
    const [up, submit, approve, ...more] = chokePointCommands();
    expect(more).toEqual([]);
    expect(up).toBe("npx ironclaw up --dev &");
    const env = { ...process.env, HOME: home };
    server = spawn(process.execPath, [bin, ...argv(up as string)], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let banner = "";
    for await (const chunk of server.stdout ?? []) {
      banner += String(chunk);
      if (banner.includes("every change is held")) break;
    }
    expect(banner).toContain("listening on http://127.0.0.1:7878");

    const held = spawnSync(process.execPath, [bin, ...argv(submit as string)], { env, encoding: "utf8" });
    expect(held.status).toBe(0);
    expect(held.stdout).toContain("HELD  c1  create_agent for agent demo");
    // The digest the README approves is the one this submission printed.
    const digest = /--digest (sha256:[0-9a-f]{64})/.exec(approve as string)?.[1];
    expect(held.stdout).toContain(`digest        ${digest}`);

    const applied = spawnSync(process.execPath, [bin, ...argv(approve as string)], { env, encoding: "utf8" });
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain("APPLIED  c1  create_agent for agent demo");
    expect(applied.stdout).toMatch(/change\.submitted[\s\S]*change\.approved[\s\S]*change\.applied/);

    const verify = spawnSync(process.execPath, [bin, "audit", "verify"], { env, encoding: "utf8" });
    expect(verify.status).toBe(0);

    // `up --dev` runs the new agent, the scripted one, sealed in its own sandbox: it reports in.
    expect(banner).toContain("agents: each in its own bubblewrap sandbox");
    let said = "";
    for (let attempt = 0; attempt < 100 && !said.includes("agent:demo: ready"); attempt += 1) {
      said = spawnSync(process.execPath, [bin, "agents", "messages", "demo"], {
        env,
        encoding: "utf8",
      }).stdout;
      if (!said.includes("ready")) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(said).toContain("agent:demo: ready");
  }, 60_000);
});
