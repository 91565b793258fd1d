import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { findExecutable } from "../src/executables.js";
import { seccompArch, seccompFilter } from "../src/seccomp.js";
import { skipRealSandbox } from "./sandbox-gate.js";

const arch = seccompArch(process.arch);
const strace = findExecutable("strace");
const unshare = findExecutable("unshare");
const truth = findExecutable("true");

/** Runs a host program in a bare bwrap sandbox (host root read-only), with or without our filter. */
function inBwrap(
  command: readonly string[],
  filter: boolean,
): Promise<{ code: number | null; stderr: string }> {
  const args = [
    "--unshare-all",
    "--unshare-user",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
  ];
  if (filter) args.push("--seccomp", "3");
  const child = spawn("bwrap", [...args, "--", ...command], {
    stdio: ["ignore", "ignore", "pipe", filter ? "pipe" : "ignore"],
  });
  if (filter && arch !== undefined) (child.stdio[3] as NodeJS.WritableStream).end(seccompFilter(arch));
  return new Promise((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

// Each case runs the same program without the filter first, so a refusal is the filter's doing.
describe.skipIf(skipRealSandbox || arch === undefined || truth === undefined)(
  "the seccomp filter in a real sandbox",
  () => {
    it.skipIf(strace === undefined)("refuses ptrace (strace cannot trace its own child)", async () => {
      const command = [strace as string, "-o", "/dev/null", truth as string];
      expect((await inBwrap(command, false)).code).toBe(0);
      const filtered = await inBwrap(command, true);
      expect(filtered.code).not.toBe(0);
      expect(filtered.stderr).toMatch(/PTRACE_TRACEME.*Operation not permitted/);
    });

    it.skipIf(unshare === undefined)("refuses a new user namespace", async () => {
      const command = [unshare as string, "--user", truth as string];
      expect((await inBwrap(command, false)).code).toBe(0);
      const filtered = await inBwrap(command, true);
      expect(filtered.code).not.toBe(0);
      expect(filtered.stderr).toMatch(/Operation not permitted/);
    });
  },
);
