import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchSandbox } from "../src/launch.js";
import type { SandboxSpec } from "../src/spec.js";
import { skipRealSandbox } from "./sandbox-gate.js";

// Prints what the runtime sees, and what happens past the file-size and descriptor limits.
const ENTRY = `
import { openSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
const attempt = (f) => { try { return f(); } catch (e) { return e.code ?? e.name; } };
const bigFile = attempt(() => writeFileSync("/workspace/big", Buffer.alloc(2 * 1024 * 1024)));
let files = 0;
const opened = attempt(() => { for (;;) { openSync("/workspace/fd-probe", "w"); files++; } });
console.log(JSON.stringify({
  env: process.env,
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  hostname: hostname(),
  bigFile,
  openFiles: { files, opened },
}));
process.exitCode = 7;
`;

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ironclaw-launch-test-"));
  for (const sub of ["app", "workspace", "sockets"]) await mkdir(join(dir, sub));
  await writeFile(join(dir, "app", "entry.mjs"), ENTRY);
  await writeFile(join(dir, "app", "spin.mjs"), "for (;;) {}\n");
  // 1 GiB, touched; under a 256 MiB limit it fails (RangeError) or V8 gives up (fatal OOM).
  await writeFile(
    join(dir, "app", "hog.mjs"),
    "const chunks = [];\nfor (let i = 0; i < 64; i++) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1));\nconsole.log('unbounded');\n",
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function spec(entry: string, extra: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    nodePath: process.execPath,
    runtimeDir: join(dir, "app"),
    entry,
    workspaceDir: join(dir, "workspace"),
    socketDir: join(dir, "sockets"),
    ...extra,
  };
}

function collect(
  child: ReturnType<typeof launchSandbox>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skipRealSandbox)("launchSandbox", () => {
  it("runs the entry with only spec.env (and PWD) and args, in /workspace, and passes its exit code on", async () => {
    const result = await collect(
      launchSandbox(
        spec("entry.mjs", {
          args: ["one", "two words"],
          env: { IRONCLAW_AGENT: "a" },
          limits: { fileBytes: 1024 * 1024, openFiles: 64 },
        }),
      ),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(7);
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    // bwrap always sets PWD to the directory it entered; nothing else of the host's gets in.
    expect(seen.env).toEqual({ IRONCLAW_AGENT: "a", PWD: "/workspace" });
    expect(seen.argv).toEqual(["one", "two words"]);
    expect(seen.cwd).toBe("/workspace");
    expect(seen.hostname).toBe("ironclaw-sandbox");
    // The limits hold inside: a write past fileBytes, a descriptor past openFiles.
    expect(seen.bigFile).toBe("EFBIG");
    expect(seen.openFiles).toMatchObject({ opened: "EMFILE" });
    expect((seen.openFiles as { files: number }).files).toBeLessThan(64);
    expect((await readFile(join(dir, "workspace", "big"))).length).toBe(1024 * 1024);
  });

  it("stops a runtime that outgrows its memory", async () => {
    const result = await collect(
      launchSandbox(spec("hog.mjs", { limits: { memoryBytes: 256 * 1024 * 1024 } })),
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain("unbounded");
    expect(result.stderr).toMatch(/out of memory|Array buffer allocation failed/);
  });

  it("stops a runtime that spends its CPU time", async () => {
    const started = Date.now();
    const result = await collect(launchSandbox(spec("spin.mjs", { limits: { cpuSeconds: 1 } })));
    expect(result.code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("refuses a spec before starting anything", () => {
    expect(() => launchSandbox(spec("../escape.mjs"))).toThrow(
      expect.objectContaining({ code: "IC_SANDBOX_INVALID_SPEC" }) as Error,
    );
  });
});
