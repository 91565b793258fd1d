import { type ChildProcess, spawn } from "node:child_process";
import { bwrapBindsFds } from "./bind-fd.js";
import { bwrapArgs } from "./bwrap-args.js";
import { SandboxError } from "./errors.js";
import { findExecutable } from "./executables.js";
import { hostLibraries } from "./ldd.js";
import { prlimitArgs } from "./limits.js";
import { type OpenedMounts, openMountSources } from "./mounts.js";
import { checkSandboxNode } from "./runtime-node.js";
import { seccompArch, seccompFilter } from "./seccomp.js";
import type { SandboxSpec } from "./spec.js";

type StdioSlot = "pipe" | "ignore" | "inherit" | number;

export interface LaunchOptions {
  /** The sandbox's stdin, stdout and stderr; "pipe" for each by default. */
  readonly stdio?: "pipe" | "ignore" | "inherit" | readonly [StdioSlot, StdioSlot, StdioSlot];
  /**
   * spec.mounts' sources, opened already (openMountSources); launchSandbox closes them. Opened here
   * when absent. The tests use it to change the host's tree between the check and the bind.
   */
  readonly openedMounts?: OpenedMounts;
}

/** bwrap reads the compiled seccomp filter from this descriptor. */
const SECCOMP_FD = 3;
/** The first of the mount sources' descriptors in bwrap's table. */
const FIRST_MOUNT_FD = 4;

/**
 * Starts spec's entry in a new sandbox: prlimit sets the limits on itself and execs bwrap, which
 * builds the sandbox and execs the runtime. The ChildProcess is bwrap; killing it kills the sandbox
 * (--die-with-parent). bwrap and prlimit get an empty environment; the sandbox gets spec.env only.
 */
export function launchSandbox(spec: SandboxSpec, options: LaunchOptions = {}): ChildProcess {
  try {
    return launch(spec, options);
  } finally {
    // bwrap holds its own copies now (or never will): ours would only keep the sources open.
    options.openedMounts?.close();
  }
}

function launch(spec: SandboxSpec, options: LaunchOptions): ChildProcess {
  checkSandboxNode(spec.nodePath);
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
  const mounts = spec.mounts ?? [];
  if (mounts.length > 0 && !bwrapBindsFds(bwrap))
    throw new SandboxError(
      "IC_SANDBOX_UNSUPPORTED",
      `${bwrap} has no --ro-bind-fd, which binding a mount safely needs: install bubblewrap 0.9 or later (or Debian's 0.8.0-2+deb12u1)`,
    );
  const opened =
    options.openedMounts ??
    (mounts.length === 0 ? undefined : openMountSources(spec.mountsRoot ?? "", mounts));
  let child: ChildProcess;
  try {
    if ((opened?.fds.length ?? 0) !== mounts.length)
      throw new SandboxError(
        "IC_SANDBOX_INVALID_SPEC",
        `expected ${mounts.length} opened mount sources, found ${opened?.fds.length ?? 0}`,
      );
    const args = bwrapArgs(spec, hostLibraries(spec.nodePath), {
      ...(arch === undefined ? {} : { seccompFd: SECCOMP_FD }),
      ...(mounts.length === 0 ? {} : { mountFds: mounts.map((_, index) => FIRST_MOUNT_FD + index) }),
    });
    const [command, commandArgs] =
      prlimit === undefined ? [bwrap, args] : [prlimit, [...prlimitArgs(spec.limits), "--", bwrap, ...args]];

    const stdio =
      typeof options.stdio === "string" || options.stdio === undefined
        ? (options.stdio ?? "pipe")
        : options.stdio;
    const slots: StdioSlot[] = typeof stdio === "string" ? [stdio, stdio, stdio] : [...stdio];
    // The mount descriptors follow the seccomp pipe, each dup2'd into its slot in bwrap's table.
    if (arch !== undefined) slots.push("pipe");
    else if (mounts.length > 0) slots.push("ignore");
    slots.push(...(opened?.fds ?? []));
    child = spawn(command, commandArgs, { stdio: slots, env: {}, cwd: "/" });
  } finally {
    opened?.close();
  }
  if (arch !== undefined) {
    const filterPipe = child.stdio[SECCOMP_FD];
    // If bwrap dies before reading the filter, its exit status says why; the EPIPE adds nothing.
    filterPipe?.on("error", () => {});
    (filterPipe as NodeJS.WritableStream | null)?.end(seccompFilter(arch));
  }
  return child;
}
