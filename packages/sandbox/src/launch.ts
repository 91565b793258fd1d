import { type ChildProcess, spawn } from "node:child_process";
import { bwrapArgs } from "./bwrap-args.js";
import { SandboxError } from "./errors.js";
import { findExecutable } from "./executables.js";
import { hostLibraries } from "./ldd.js";
import { prlimitArgs } from "./limits.js";
import { seccompArch, seccompFilter } from "./seccomp.js";
import type { SandboxSpec } from "./spec.js";

type StdioSlot = "pipe" | "ignore" | "inherit" | number;

export interface LaunchOptions {
  /** The sandbox's stdin, stdout and stderr; "pipe" for each by default. */
  readonly stdio?: "pipe" | "ignore" | "inherit" | readonly [StdioSlot, StdioSlot, StdioSlot];
}

/** bwrap reads the compiled seccomp filter from this descriptor. */
const SECCOMP_FD = 3;

/**
 * Starts spec's entry in a new sandbox: prlimit sets the limits on itself and execs bwrap, which
 * builds the sandbox and execs the runtime. The ChildProcess is bwrap; killing it kills the sandbox
 * (--die-with-parent). bwrap and prlimit get an empty environment; the sandbox gets spec.env only.
 */
export function launchSandbox(spec: SandboxSpec, options: LaunchOptions = {}): ChildProcess {
  const bwrap = findExecutable("bwrap");
  if (bwrap === undefined)
    throw new SandboxError("IC_SANDBOX_BWRAP_MISSING", "bwrap (bubblewrap) is not installed or not on PATH");
  const prlimit = findExecutable("prlimit");
  const hasLimits = Object.values(spec.limits ?? {}).some((value) => value !== undefined);
  if (prlimit === undefined && hasLimits)
    throw new SandboxError(
      "IC_SANDBOX_PRLIMIT_MISSING",
      "prlimit (util-linux) is needed to set the sandbox's limits",
    );

  const arch = seccompArch(process.arch);
  const args = bwrapArgs(
    spec,
    hostLibraries(spec.nodePath),
    arch === undefined ? {} : { seccompFd: SECCOMP_FD },
  );
  const [command, commandArgs] =
    prlimit === undefined ? [bwrap, args] : [prlimit, [...prlimitArgs(spec.limits), "--", bwrap, ...args]];

  const stdio =
    typeof options.stdio === "string" || options.stdio === undefined
      ? (options.stdio ?? "pipe")
      : options.stdio;
  const slots: StdioSlot[] = typeof stdio === "string" ? [stdio, stdio, stdio] : [...stdio];
  const child = spawn(command, commandArgs, {
    stdio: arch === undefined ? slots : [...slots, "pipe"],
    env: {},
    cwd: "/",
  });
  if (arch !== undefined) {
    const filterPipe = child.stdio[SECCOMP_FD];
    // If bwrap dies before reading the filter, its exit status says why; the EPIPE adds nothing.
    filterPipe?.on("error", () => {});
    (filterPipe as NodeJS.WritableStream | null)?.end(seccompFilter(arch));
  }
  return child;
}
