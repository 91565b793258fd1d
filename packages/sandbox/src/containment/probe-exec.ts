import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe, why } from "./probe-util.js";

/** Runs a program; "ran" only when it really started (it may still exit non-zero). */
function tryRun(path: string, args: readonly string[]): { ran: boolean; detail: string } {
  try {
    const result = spawnSync(path, args, { timeout: 5000, stdio: "ignore" });
    if (result.error !== undefined) return { ran: false, detail: `spawn ${path}: ${why(result.error)}` };
    return { ran: true, detail: `spawn ${path}: ran (status ${String(result.status ?? result.signal)})` };
  } catch (error) {
    return { ran: false, detail: `spawn ${path}: ${why(error)}` };
  }
}

export function execShell(): Observation {
  const exists = attempt(() => existsSync("/bin/sh"));
  const run = tryRun("/bin/sh", ["-c", "exit 0"]);
  const present = exists.ok && exists.value === true;
  return observe(present || run.ran ? "allowed" : "denied", [
    `exists /bin/sh: ${exists.ok ? String(exists.value) : exists.reason}`,
    run.detail,
  ]);
}

const OTHER_PROGRAMS = [
  "/usr/bin/env",
  "/bin/busybox",
  "/bin/bash",
  "/usr/bin/python3",
  "/usr/bin/perl",
  "/bin/mount",
];
const SKIP = new Set(["/proc", "/sys", "/dev"]);
const SCAN_LIMIT = 20_000;

/** Executable files in the visible tree that are not expected, breadth first; stops at a few, or after SCAN_LIMIT entries. */
function unexpectedExecutables(expected: ReadonlySet<string>): { found: string[]; complete: boolean } {
  const found: string[] = [];
  const pending = ["/"];
  let visited = 0;
  while (pending.length > 0 && found.length < 5) {
    const dir = pending.shift() as string;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (SKIP.has(path)) continue;
      if (++visited > SCAN_LIMIT) return { found, complete: false };
      const stat = attempt(() => lstatSync(path));
      if (!stat.ok) continue;
      const info = stat.value as ReturnType<typeof lstatSync>;
      if (info?.isDirectory()) pending.push(path);
      else if (info?.isFile() && (Number(info.mode) & 0o111) !== 0 && !expected.has(path)) found.push(path);
    }
  }
  return { found, complete: true };
}

export function execOtherBinary(config: ProbeConfig): Observation {
  const runs = OTHER_PROGRAMS.map((path) => tryRun(path, ["--version"]));
  const details = runs.map((run) => run.detail);
  let allowed = runs.some((run) => run.ran);
  const scan = attempt(() => unexpectedExecutables(new Set(config.expectedExecutables)));
  if (!scan.ok) details.push(`scan of /: ${scan.reason}`);
  else {
    const { found, complete } = scan.value as ReturnType<typeof unexpectedExecutables>;
    if (found.length > 0) allowed = true;
    details.push(
      found.length > 0
        ? `executables found: ${found.join(", ")}`
        : `scan of /: no unexpected executable${complete ? "" : ` in the first ${SCAN_LIMIT} entries`}`,
    );
  }
  return observe(allowed ? "allowed" : "denied", details);
}

export function spawnChild(): Observation {
  const run = tryRun(process.execPath, ["--version"]);
  return observe(run.ran ? "allowed" : "denied", [run.detail]);
}
