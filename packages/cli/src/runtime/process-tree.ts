import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Every descendant of pid, from /proc/<pid>/task/<tid>/children; what cannot be read is not there. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, "utf8");
      } catch {
        continue;
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number))
        if (Number.isSafeInteger(child) && !found.includes(child)) {
          found.push(child);
          queue.push(child);
        }
    }
  }
  return found;
}

/** Gone or a zombie: either way it runs nothing. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command's closing parenthesis.
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
}

/**
 * SIGKILLs a sandbox and everything under it (bwrap, the runtime as the namespace's pid 1, anything
 * that got started), then waits until none of them runs. Resolves with the pids it killed; rejects
 * if any still runs after timeoutMs, so no new sandbox starts beside it.
 */
export async function killTree(child: ChildProcess, timeoutMs = 5000): Promise<number[]> {
  const pid = child.pid;
  if (pid === undefined) return [];
  const exited = child.exitCode !== null || child.signalCode !== null;
  const waitExit = exited
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pids = [pid, ...descendants(pid)];
  // The deepest first, so none is left to a parent that dies before it.
  for (const target of [...pids].reverse()) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + timeoutMs;
  await Promise.race([waitExit, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  while (pids.some(alive)) {
    if (Date.now() > deadline)
      throw new Error(
        `processes ${pids.filter(alive).join(", ")} of the old sandbox still run after SIGKILL`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pids;
}
