import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isSandboxError, type SandboxErrorCode } from "./errors.js";
import { findExecutable } from "./executables.js";
import { launchSandbox } from "./launch.js";
import { checkSandboxNode } from "./runtime-node.js";

const run = promisify(execFile);

export interface SandboxSupport {
  readonly ok: boolean;
  readonly reason?: string;
  /** Set when the reason is one of ours with a stable code, not bwrap's or the host's. */
  readonly code?: SandboxErrorCode;
  readonly bwrapVersion?: string;
}

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Whether sandboxes can run here: bwrap is installed and a real sandbox, built exactly as
 * launchSandbox builds one, starts the runtime and exits 0. Any failure is the reason, never a throw.
 */
export async function sandboxSupport(): Promise<SandboxSupport> {
  try {
    // First: bwrap working here changes nothing when there is no node to run in it.
    checkSandboxNode(process.execPath);
  } catch (error) {
    if (!isSandboxError(error)) throw error;
    return { ok: false, reason: error.message, code: error.code };
  }
  const bwrap = findExecutable("bwrap");
  if (bwrap === undefined) return { ok: false, reason: "bwrap (bubblewrap) is not installed or not on PATH" };
  let bwrapVersion: string;
  try {
    bwrapVersion = (await run(bwrap, ["--version"], { encoding: "utf8" })).stdout.trim();
  } catch (error) {
    return { ok: false, reason: `bwrap --version failed: ${String(error)}` };
  }
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-sandbox-support-"));
  try {
    for (const sub of ["app", "workspace", "sockets"]) await mkdir(join(dir, sub));
    await writeFile(join(dir, "app", "ok.mjs"), "process.exit(0);\n");
    const reason = await new Promise<string | undefined>((resolve) => {
      let child: ReturnType<typeof launchSandbox>;
      try {
        child = launchSandbox(
          {
            nodePath: process.execPath,
            runtimeDir: join(dir, "app"),
            entry: "ok.mjs",
            workspaceDir: join(dir, "workspace"),
            socketDir: join(dir, "sockets"),
          },
          { stdio: ["ignore", "ignore", "pipe"] },
        );
      } catch (error) {
        resolve(error instanceof Error ? error.message : String(error));
        return;
      }
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), PROBE_TIMEOUT_MS);
      child.on("error", (error) => resolve(error.message));
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve(undefined);
        else
          resolve(
            `a test sandbox exited with ${signal ?? `code ${String(code)}`}: ${stderr.trim() || "no output"}`,
          );
      });
    });
    return reason === undefined ? { ok: true, bwrapVersion } : { ok: false, reason, bwrapVersion };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
