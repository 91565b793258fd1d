import { execFileSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { LIMIT_MECHANISMS, limitCaveat } from "../limits.js";
import type { SandboxLimits } from "../spec.js";

/** The commit of the checkout this code runs from, or "unknown" outside one. */
export function gitCommit(cwd: string): string {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unknown";
  }
}

export interface CgroupStatus {
  readonly hierarchy: "v2" | "hybrid" | "v1" | "none";
  /** The controllers enabled in the cgroup v2 hierarchy, if there is one. */
  readonly controllers: readonly string[];
  readonly writable: boolean;
  readonly used: false;
}

function controllersAt(dir: string): string[] | undefined {
  try {
    return readFileSync(`${dir}/cgroup.controllers`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return undefined;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What cgroups this host offers. The launcher does not use them (yet): limits are rlimits. */
export function cgroupStatus(): CgroupStatus {
  const v2 = controllersAt("/sys/fs/cgroup");
  if (v2 !== undefined)
    return {
      hierarchy: "v2",
      controllers: v2,
      writable: writable("/sys/fs/cgroup/cgroup.procs"),
      used: false,
    };
  const unified = controllersAt("/sys/fs/cgroup/unified");
  if (unified !== undefined)
    return {
      hierarchy: "hybrid",
      controllers: unified,
      writable: writable("/sys/fs/cgroup/unified/cgroup.procs"),
      used: false,
    };
  let mounted = false;
  try {
    mounted = readFileSync("/proc/self/mountinfo", "utf8").includes(" - cgroup ");
  } catch {
    // no /proc: nothing to say
  }
  return { hierarchy: mounted ? "v1" : "none", controllers: [], writable: false, used: false };
}

export interface LimitStatus {
  readonly requested: number | null;
  readonly by: string;
  /** The soft limit in the sandbox's /proc/self/limits. */
  readonly observed: string | null;
  readonly enforced: boolean;
  readonly note?: string;
}

export type LimitsReport = { readonly [name in keyof Required<SandboxLimits>]: LimitStatus } & {
  readonly mechanism: string;
  readonly cgroups: CgroupStatus;
};

const PROC_NAMES: Readonly<Record<keyof SandboxLimits, string>> = {
  memoryBytes: "Max data size",
  cpuSeconds: "Max cpu time",
  processes: "Max processes",
  openFiles: "Max open files",
  fileBytes: "Max file size",
};

/** Each limit as asked for and as the kernel applies it inside; enforced only when both agree and nothing exempts the sandbox. */
export function limitsReport(
  requested: SandboxLimits,
  observed: Readonly<Record<string, unknown>> | undefined,
  hostUid: number,
): LimitsReport {
  const status = (name: keyof SandboxLimits): LimitStatus => {
    const value = requested[name];
    const seen = observed?.[PROC_NAMES[name]];
    const observedValue = typeof seen === "string" ? seen : null;
    const note = value === undefined ? undefined : limitCaveat(name, hostUid);
    return {
      requested: value ?? null,
      by: LIMIT_MECHANISMS[name],
      observed: observedValue,
      enforced: value !== undefined && observedValue === String(value) && note === undefined,
      ...(note === undefined ? {} : { note }),
    };
  };
  return {
    mechanism: "prlimit sets each rlimit (soft = hard) and execs bwrap; the sandbox inherits them",
    cgroups: cgroupStatus(),
    memoryBytes: status("memoryBytes"),
    cpuSeconds: status("cpuSeconds"),
    processes: status("processes"),
    openFiles: status("openFiles"),
    fileBytes: status("fileBytes"),
  };
}
