import { randomBytes } from "node:crypto";
import { constants, readFileSync, rmSync } from "node:fs";
import { link, open, readFile, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { CliError } from "../errors.js";

/**
 * Who holds a lock: a pid alone is reused after a process dies, so the lock also names when that
 * process started (on Linux, its start time in clock ticks since boot and the boot's id).
 */
interface Holder {
  readonly pid: number;
  readonly started: string;
}

const MAX_LOCK_BYTES = 4096;

/** This process's start, or another's; undefined where the system does not say (not Linux, or gone). */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return `${boot}:${fields[19]}`;
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the pid exists but is another user's process.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const started = startOf(holder.pid);
  // Where start times cannot be read, a live pid is taken to be the holder: fail closed.
  return started === undefined || holder.started === "unknown" || started === holder.started;
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (Number.isSafeInteger(value.pid) && typeof value.started === "string")
      return { pid: value.pid as number, started: value.started };
  } catch {
    /* a lock file cut short by a crash: no holder */
  }
  return undefined;
}

export interface InstallLock {
  readonly path: string;
  /** Throws unless the lock file still names this process (nobody broke it meanwhile). */
  assertHeld(): Promise<void>;
  release(): Promise<void>;
  /** For a signal handler, which cannot wait. */
  releaseSync(): void;
}

export const lockPath = (installedFile: string, directory: string) =>
  join(directory, `.${basename(installedFile)}.upgrade-lock`);

/**
 * One upgrade or rollback per installed file at a time. The lock is a file beside it, created with
 * O_EXCL and naming its holder; a lock whose holder is gone (SIGKILL, a reboot) is stale and taken over.
 */
export async function lockInstallation(installedFile: string, directory: string): Promise<InstallLock> {
  const path = lockPath(installedFile, directory);
  const me: Holder = { pid: process.pid, started: startOf(process.pid) ?? "unknown" };
  const mine = JSON.stringify(me);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.writeFile(mine);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return held(path, mine);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw lockError(path, error);
    }
    const text = await readLock(path);
    if (text === undefined) continue;
    const holder = parseHolder(text);
    if (holder !== undefined && alive(holder)) {
      throw new CliError(
        "IC_UPGRADE_BUSY",
        `another ironclaw upgrade or rollback (pid ${holder.pid}) is working on ${installedFile}; wait for it to finish and run this again`,
      );
    }
    await breakStale(path, text);
  }
  throw new CliError("IC_UPGRADE_BUSY", `could not take ${path}: other processes keep taking it`);
}

/** O_NONBLOCK and O_NOFOLLOW: a FIFO or a link planted at the lock's name is refused, never waited on. */
const READ_LOCK_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);

async function readLock(path: string): Promise<string | undefined> {
  try {
    const handle = await open(path, READ_LOCK_FLAGS);
    try {
      if (!(await handle.stat()).isFile()) {
        throw new CliError(
          "IC_INSTALL_WRITE",
          `${path} is not a regular file, so it cannot be the upgrade lock; remove it and run this again`,
        );
      }
      const buffer = Buffer.alloc(MAX_LOCK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
      return buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP")
      throw new CliError(
        "IC_INSTALL_WRITE",
        `${path} is a symbolic link, so it cannot be the upgrade lock; remove it and run this again`,
      );
    throw lockError(path, error);
  }
}

/**
 * Moves a stale lock aside. Another process may have replaced it since it was read: the moved file
 * is read again, and a live lock is linked back (link fails rather than overwrite a newer one).
 */
async function breakStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw lockError(path, error);
  }
  const moved = await readFile(aside, "utf8").catch(() => staleText);
  if (moved !== staleText) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

function held(path: string, mine: string): InstallLock {
  let released = false;
  const ours = async () => (await readLock(path)) === mine;
  return {
    path,
    async assertHeld() {
      if (!(await ours()))
        throw new CliError(
          "IC_UPGRADE_BUSY",
          `${path} was taken by another process during this upgrade; nothing was replaced`,
        );
    },
    async release() {
      if (released) return;
      released = true;
      if (await ours()) await rm(path, { force: true });
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, "utf8") === mine) rmSyncQuiet(path);
      } catch {
        /* gone already */
      }
    },
  };
}

function rmSyncQuiet(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    /* best effort while exiting */
  }
}

function lockError(path: string, cause: unknown): CliError {
  return new CliError(
    "IC_INSTALL_WRITE",
    `cannot create ${path} (the lock that keeps two upgrades apart): ${(cause as Error).message}`,
    { cause },
  );
}
