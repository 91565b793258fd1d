import type { SandboxLimits } from "./spec.js";

/**
 * Node cannot call setrlimit, so prlimit (util-linux) sets each limit on itself and then execs bwrap,
 * which the sandboxed process inherits. Soft and hard are equal, so the sandbox cannot raise them.
 * RLIMIT_DATA rather than RLIMIT_AS: V8 reserves far more address space than it uses (node does not
 * start under a 256 MiB RLIMIT_AS) while RLIMIT_DATA counts the private memory actually mapped.
 * Core dumps are always off: a core of the agent would land outside the sandbox.
 */
export function prlimitArgs(limits: SandboxLimits | undefined): string[] {
  const args = ["--core=0"];
  if (limits?.memoryBytes !== undefined) args.push(`--data=${limits.memoryBytes}`);
  if (limits?.cpuSeconds !== undefined) args.push(`--cpu=${limits.cpuSeconds}`);
  if (limits?.processes !== undefined) args.push(`--nproc=${limits.processes}`);
  if (limits?.openFiles !== undefined) args.push(`--nofile=${limits.openFiles}`);
  if (limits?.fileBytes !== undefined) args.push(`--fsize=${limits.fileBytes}`);
  return args;
}

export const LIMIT_MECHANISMS: Readonly<Record<keyof SandboxLimits, string>> = {
  memoryBytes: "RLIMIT_DATA, --max-old-space-size and the size of the /tmp tmpfs",
  cpuSeconds: "RLIMIT_CPU",
  processes: "RLIMIT_NPROC",
  openFiles: "RLIMIT_NOFILE",
  fileBytes: "RLIMIT_FSIZE",
};

/**
 * Why a set limit may still not hold. RLIMIT_NPROC is not checked for the host's root user (the
 * kernel exempts kuid 0 even inside a user namespace, since bwrap maps the sandbox to the caller's
 * uid), and for any other uid it counts every task that uid has on the host.
 */
export function limitCaveat(name: keyof SandboxLimits, hostUid: number): string | undefined {
  if (name === "processes" && hostUid === 0)
    return "not enforced: the sandbox runs as the host's root user, whom the kernel exempts from RLIMIT_NPROC; launch as a dedicated unprivileged uid";
  return undefined;
}
