import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRelease, readSourceInfo } from "@ironclaw/release";
import { SandboxError } from "@ironclaw/sandbox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { describeError, exitCodeForError } from "../src/exit-codes.js";
import { ROOT, removeAll } from "./release-fixture.js";

/**
 * What a released ironclaw, not a checkout, can do with sandboxes: the node bundle runs the
 * self-test with the probe it carries (it has no probe sources and no esbuild); the standalone
 * executable cannot be the node inside a sandbox and says so with IC_SANDBOX_NEEDS_NODE.
 */
const linuxAmd64 = process.platform === "linux" && process.arch === "x64";
const source = readSourceInfo(ROOT);
const dirs: string[] = [];
let installed = "";

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Outside any checkout, so nothing can be found beside the script; PATH only, for bwrap and prlimit. */
function run(command: string, args: readonly string[], cwd: string): Run {
  const child = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 120_000,
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

/** The release's archives, built as release:local builds them (unsigned), each extracted in its own directory. */
beforeAll(async () => {
  if (skipRealSandbox) return;
  const out = mkdtempSync(join(tmpdir(), "ironclaw-released-runtimes-"));
  dirs.push(out);
  const targets = linuxAmd64 ? ["node", "linux_amd64"] : ["node"];
  const built = await buildRelease({ source, outDir: join(out, "assets"), targets });
  installed = join(out, "installed");
  for (const archive of built.archives) {
    const into = join(installed, archive.includes("_node.") ? "node" : "executable");
    mkdirSync(into, { recursive: true });
    const tar = spawnSync("tar", ["-xzf", join(out, "assets", archive), "-C", into], { encoding: "utf8" });
    if (tar.status !== 0) throw new Error(`tar -xzf ${archive} failed: ${tar.stderr}`);
  }
}, 300_000);

afterAll(() => removeAll(...dirs));

function scratch(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ironclaw-released-${name}-`));
  dirs.push(dir);
  return dir;
}

/** `up --dev --json` started on a free port: its report's agents line, then it is stopped. */
async function upAgentsLine(command: string, prefix: readonly string[], state: string): Promise<string> {
  const child: ChildProcess = spawn(
    command,
    [...prefix, "up", "--dev", "--state", state, "--listen", "127.0.0.1:0", "--json"],
    { env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    const report = await new Promise<{ agents: string }>((resolve, reject) => {
      child.stdout?.on("data", (chunk) => {
        stdout += chunk;
        try {
          resolve(JSON.parse(stdout) as { agents: string });
        } catch {
          // Not all of it yet.
        }
      });
      child.on("close", () => reject(new Error(`up exited before its report: ${stdout}${stderr}`)));
    });
    return report.agents;
  } finally {
    // Not its exit status: a SIGTERM this soon after the report can beat up's signal listener (as
    // from a checkout), which is not what these tests are about.
    child.kill("SIGKILL");
    await closed;
  }
}

describe.skipIf(skipRealSandbox)("the released node bundle", () => {
  it("holds nothing but the script: no probe sources, no esbuild", () => {
    expect(readdirSync(join(installed, "node")).sort()).toEqual(["LICENSE", "README.md", "ironclaw.cjs"]);
  });

  it("runs sandbox selftest --json with the probe it carries, names its build's commit, and says contained", () => {
    const result = run(
      process.execPath,
      [join(installed, "node", "ironclaw.cjs"), "sandbox", "selftest", "--json"],
      scratch("node-cwd"),
    );
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as {
      verdict: string;
      commit: string;
      invariants: { id: string; held: boolean; detail: string }[];
    };
    expect(report.invariants.filter((invariant) => !invariant.held)).toEqual([]);
    expect(report.invariants.length).toBeGreaterThan(30);
    expect(report.verdict).toBe("contained");
    expect(result.code).toBe(0);
    // The release's own commit, not that of a git repository the script happens to sit in.
    expect(report.commit).toBe(source.dirty ? `${source.commit}-dirty` : source.commit);
    const egress = report.invariants.find((invariant) => invariant.id === "egress-allowlist");
    expect(egress?.detail).not.toMatch(/placeholder/);
  }, 180_000);

  it("names its build's commit even from inside another git repository", () => {
    const repo = scratch("other-repo");
    const git = (...args: string[]) => run("git", ["-C", repo, ...args], repo);
    git("init", "-q");
    writeFileSync(join(repo, "file"), "x\n");
    git("add", "file");
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "other");
    const head = git("rev-parse", "HEAD").stdout.trim();
    expect(head).toMatch(/^[0-9a-f]{40}$/);
    const script = join(repo, "ironclaw.cjs");
    copyFileSync(join(installed, "node", "ironclaw.cjs"), script);
    const result = run(process.execPath, [script, "sandbox", "selftest", "--json"], repo);
    const report = JSON.parse(result.stdout) as { commit: string; verdict: string };
    expect(report.verdict).toBe("contained");
    expect(report.commit).not.toBe(head);
    expect(report.commit).toBe(source.dirty ? `${source.commit}-dirty` : source.commit);
  }, 180_000);
  it("starts `up` with agents, each sandboxed, from the agent runtime it carries", async () => {
    const state = scratch("node-state");
    const agents = await upAgentsLine(process.execPath, [join(installed, "node", "ironclaw.cjs")], state);
    expect(agents).toMatch(/^agents: each in its own bubblewrap sandbox/);
    expect(readFileSync(join(state, "runtime", "agent.mjs"), "utf8").length).toBeGreaterThan(1000);
  }, 60_000);
});

describe.runIf(linuxAmd64 && !skipRealSandbox)("the released standalone executable", () => {
  const executable = () => join(installed, "executable", "ironclaw");

  it("cannot be a sandbox's node: node's flags and the script go to ironclaw's own command line", () => {
    // What a sandbox would run, bwrap left out: the runtime never starts, the permission model never applies.
    const dir = scratch("exe-runtime");
    writeFileSync(join(dir, "runtime.mjs"), 'console.log("the runtime ran");\n');
    const result = run(
      executable(),
      ["--disable-warning=ExperimentalWarning", "--experimental-permission", join(dir, "runtime.mjs")],
      dir,
    );
    expect(result.stdout).not.toContain("the runtime ran");
    expect(result.stderr).toContain("unknown option '--disable-warning=ExperimentalWarning'");
    expect(result.code).toBe(2);
  });

  it("refuses sandbox selftest with IC_SANDBOX_NEEDS_NODE, exit 3, and says to use the node bundle", () => {
    const result = run(executable(), ["sandbox", "selftest", "--json"], scratch("exe-cwd"));
    const error = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("IC_SANDBOX_NEEDS_NODE");
    expect(error.error.message).toContain("node ironclaw.cjs");
    expect(error.error.message).toContain(executable());
    expect(result.code).toBe(3);
  });

  it("starts `up` without agents, and its agents line says why with the code", async () => {
    const agents = await upAgentsLine(executable(), [], scratch("exe-state"));
    expect(agents).toMatch(/^agents: not started \(IC_SANDBOX_NEEDS_NODE\): /);
    expect(agents).toContain("node ironclaw.cjs");
  }, 60_000);
});

describe("a sandbox error in the CLI", () => {
  it("keeps its own code and exit code, not IC_INTERNAL", () => {
    const described = describeError(new SandboxError("IC_SANDBOX_NEEDS_NODE", "no node"));
    expect(described).toEqual({ code: "IC_SANDBOX_NEEDS_NODE", message: "no node" });
    expect(exitCodeForError(described.code)).toBe(3);
    expect(describeError(new Error("other")).code).toBe("IC_INTERNAL");
  });
});
