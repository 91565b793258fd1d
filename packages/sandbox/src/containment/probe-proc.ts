import { closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import type { ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe, why } from "./probe-util.js";

/** The fields of /proc/self/status, or why they cannot be read. */
function status(): Map<string, string> | string {
  const read = attempt(() => readFileSync("/proc/self/status", "utf8"));
  if (!read.ok) return read.reason;
  const fields = new Map<string, string>();
  for (const line of String(read.value).split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

const isZero = (hex: string | undefined) => hex !== undefined && /^0+$/.test(hex);

/** kill(pid, 0): ESRCH means no such process is visible; success or EPERM means it is. */
function signalHostPid(config: ProbeConfig): { visible: boolean | undefined; detail: string } {
  if (config.hostPid === process.pid)
    return { visible: undefined, detail: "the host pid equals the probe's own pid" };
  try {
    process.kill(config.hostPid, 0);
    return { visible: true, detail: `kill(${config.hostPid}, 0): delivered` };
  } catch (error) {
    return { visible: why(error) !== "ESRCH", detail: `kill(${config.hostPid}, 0): ${why(error)}` };
  }
}

export function hostPids(config: ProbeConfig): Observation {
  const signal = signalHostPid(config);
  const details = [signal.detail];
  let visible = signal.visible;
  const listed = attempt(() => readdirSync("/proc").filter((name) => /^\d+$/.test(name)));
  if (!listed.ok) details.push(`readdir /proc: ${listed.reason}`);
  else {
    const others = (listed.value as string[]).filter((pid) => pid !== String(process.pid));
    details.push(`/proc pids: ${(listed.value as string[]).join(", ")} (own: ${process.pid})`);
    visible = (visible ?? false) || others.length > 0;
  }
  if (visible === undefined) return observe("inconclusive", details);
  return observe(visible ? "allowed" : "denied", details);
}

export function ptrace(config: ProbeConfig): Observation {
  const details: string[] = [];
  let reached: boolean | undefined;
  if (config.hostPid === process.pid) details.push("the host pid equals the probe's own pid");
  else {
    reached = false;
    for (const file of ["mem", "environ"]) {
      const path = `/proc/${config.hostPid}/${file}`;
      const opened = attempt(() => closeSync(openSync(path, "r")));
      if (opened.ok) reached = true;
      details.push(`open ${path}: ${opened.ok ? "opened" : opened.reason}`);
    }
  }
  const fields = status();
  if (typeof fields === "string") details.push(`/proc/self/status: ${fields}`);
  else {
    const capEff = fields.get("CapEff");
    details.push(`CapEff ${capEff ?? "?"}`);
    if (!isZero(capEff)) reached = true;
  }
  if (reached === undefined) return observe("inconclusive", details);
  return observe(reached ? "allowed" : "denied", details);
}

const MOUNT_PROGRAMS = ["/bin/mount", "/usr/bin/mount", "/sbin/mount", "/usr/sbin/mount"];

export function mount(): Observation {
  const fields = status();
  if (typeof fields === "string") return observe("inconclusive", [`/proc/self/status: ${fields}`]);
  const capEff = fields.get("CapEff");
  const capBnd = fields.get("CapBnd");
  const noNewPrivs = fields.get("NoNewPrivs");
  const programs = MOUNT_PROGRAMS.filter((path) => existsSync(path));
  const contained = isZero(capEff) && isZero(capBnd) && noNewPrivs === "1" && programs.length === 0;
  return observe(contained ? "denied" : "allowed", [
    `CapEff ${capEff ?? "?"}`,
    `CapBnd ${capBnd ?? "?"}`,
    `NoNewPrivs ${noNewPrivs ?? "?"}`,
    `mount programs: ${programs.join(", ") || "none"}`,
  ]);
}

export function seccomp(): Observation {
  const fields = status();
  if (typeof fields === "string") return observe("inconclusive", [`/proc/self/status: ${fields}`]);
  const mode = fields.get("Seccomp");
  // 2 is filter mode; 0 would mean every syscall the kernel offers is open.
  return observe(mode === "2" ? "denied" : "allowed", [
    `Seccomp ${mode ?? "?"}`,
    `Seccomp_filters ${fields.get("Seccomp_filters") ?? "?"}`,
  ]);
}

/** The soft limits as the kernel applies them, keyed by /proc/self/limits' names. */
export function limits(): Record<string, string> | undefined {
  const read = attempt(() => readFileSync("/proc/self/limits", "utf8"));
  if (!read.ok) return undefined;
  const values: Record<string, string> = {};
  for (const line of String(read.value).split("\n")) {
    const match = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) values[match[1]] = match[2];
  }
  return values;
}
