import { open, readFile, unlink } from "node:fs/promises";
import { GatewayError } from "../errors.js";
import { isErrnoCode } from "./files.js";

const ATTEMPTS = 3;

/**
 * One gateway per state directory: gateway.lock is created exclusively and holds the owner's pid. A lock
 * whose pid is dead was left by a crash and is taken over. Residual races: two processes that both find
 * the same stale lock can both unlink it and the slower one may remove the faster one's fresh lock; and
 * a dead owner's pid reused by an unrelated process makes the lock look live (the safe direction).
 * Returns the function that releases the lock.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return () => releaseLock(path);
    } catch (error) {
      if (!isErrnoCode(error, "EEXIST")) {
        throw new GatewayError(
          "IC_STATE_INVALID",
          `expected to create the lock ${path}, found ${String(error)}`,
          {
            cause: error,
          },
        );
      }
    }
    const owner = await lockOwner(path);
    if (owner === "gone") continue; // released meanwhile: try again
    if (owner === "unreadable") {
      throw new GatewayError(
        "IC_AUDIT_LOCKED",
        `expected ${path} to hold a process id, found something else; if no gateway is running, delete it`,
      );
    }
    if (isAlive(owner)) {
      throw new GatewayError(
        "IC_AUDIT_LOCKED",
        `expected no other gateway on this state directory, found ${path} held by running process ${owner}; ` +
          "stop that gateway first or use another state directory",
      );
    }
    // The owner died without releasing the lock (a crash): take it over.
    await unlink(path).catch((error: unknown) => {
      if (!isErrnoCode(error, "ENOENT")) throw error;
    });
  }
  throw new GatewayError(
    "IC_AUDIT_LOCKED",
    `expected to take ${path}, found it taken by another process each of ${ATTEMPTS} times; retry`,
  );
}

/** Whether a live process holds this lock file: a gateway is running on its state directory. */
export async function lockHeld(path: string): Promise<boolean> {
  const owner = await lockOwner(path).catch(() => "unreadable" as const);
  return typeof owner === "number" && isAlive(owner);
}

async function lockOwner(path: string): Promise<number | "gone" | "unreadable"> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return "gone";
    throw error;
  }
  // An empty file is most likely an owner between creating and writing it: not safe to take.
  return /^[1-9]\d*\n?$/.test(text) ? Number(text.trim()) : "unreadable";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return !isErrnoCode(error, "ESRCH");
  }
}

async function releaseLock(path: string): Promise<void> {
  // Only remove a lock that is still ours.
  if ((await lockOwner(path)) === process.pid) await unlink(path);
}
