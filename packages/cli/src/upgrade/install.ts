import { randomBytes } from "node:crypto";
import { copyFile, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { syncDirectory } from "@ironclaw/gateway/durable-file";
import { CliError } from "../errors.js";
import { failpoint } from "./failpoint.js";
import type { Installation } from "./installation.js";

export const previousPath = (installation: Installation) => `${installation.path}.previous`;

function temporaryBeside(installation: Installation, purpose: string): string {
  return join(
    installation.directory,
    `.${basename(installation.path)}.${purpose}-${randomBytes(6).toString("hex")}`,
  );
}

async function writeSynced(path: string, bytes: Uint8Array, mode: number): Promise<void> {
  const handle = await open(path, "wx", mode);
  try {
    await handle.writeFile(bytes);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function copySynced(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const handle = await open(to, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function writeError(installation: Installation, cause: unknown): CliError {
  return new CliError(
    "IC_INSTALL_WRITE",
    `cannot write next to ${installation.path}: ${(cause as Error).message}; the installed ironclaw is unchanged`,
    { cause },
  );
}

/**
 * Puts verified bytes in place of the installed file. The new file is written beside it and fsynced,
 * the current one is copied to `<file>.previous` (through a temporary name, so `.previous` is always
 * whole), and one rename swaps them: at every instant the installed path holds a complete old or a
 * complete new ironclaw, whatever kills the process.
 */
export async function replaceInstalled(
  installation: Installation,
  bytes: Uint8Array,
  temporary: Set<string> = new Set(),
): Promise<void> {
  await removeLeftovers(installation);
  const mode = (await stat(installation.path)).mode & 0o777;
  const incoming = temporaryBeside(installation, "upgrade");
  const backup = temporaryBeside(installation, "previous");
  temporary.add(incoming).add(backup);
  try {
    await writeSynced(incoming, bytes, mode);
    await failpoint("after-write");
    await copySynced(installation.path, backup);
    await rename(backup, previousPath(installation));
    await failpoint("after-backup");
    await rename(incoming, installation.path);
    await failpoint("after-swap");
    await syncDirectory(installation.directory);
  } catch (error) {
    await rm(incoming, { force: true });
    await rm(backup, { force: true });
    throw error instanceof CliError ? error : writeError(installation, error);
  } finally {
    temporary.delete(incoming);
    temporary.delete(backup);
  }
}

/**
 * Which file is at `path`: device, inode, size and change time. The lock keeps other upgrades out,
 * not an installer or a package manager, so the file an upgrade judged is compared with the one it
 * is about to replace.
 */
export async function identityOf(path: string): Promise<string> {
  const s = await stat(path, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/**
 * Fails before anything is downloaded when the installed file cannot be replaced: a file is created
 * and removed where the new one would be written (a permission check alone is wrong for root, and
 * for read-only mounts).
 */
export async function assertReplaceable(installation: Installation): Promise<void> {
  const probe = temporaryBeside(installation, "upgrade");
  try {
    const handle = await open(probe, "wx", 0o600);
    await handle.close();
    await rm(probe, { force: true });
  } catch (error) {
    throw new CliError(
      "IC_INSTALL_WRITE",
      `cannot write in ${installation.directory}, where ${basename(installation.path)} would be replaced (${(error as Error).message}); nothing was downloaded. Run the upgrade as the user who owns ${installation.path}`,
      { cause: error },
    );
  }
}

/** Temporary files of an upgrade or rollback that was killed before it could remove them. */
async function removeLeftovers(installation: Installation): Promise<void> {
  const prefix = `.${basename(installation.path)}.`;
  const leftover = /\.(upgrade|previous|rollback)-[0-9a-f]{12}$/;
  for (const name of await readdir(installation.directory)) {
    if (name.startsWith(prefix) && leftover.test(name))
      await rm(join(installation.directory, name), { force: true });
  }
}

/** Swaps the installed file with `<file>.previous`, each step one atomic rename. */
export async function rollBack(installation: Installation): Promise<void> {
  const previous = previousPath(installation);
  try {
    await stat(previous);
  } catch {
    throw new CliError(
      "IC_UPGRADE_NO_PREVIOUS",
      `there is no ${previous} to roll back to; an upgrade keeps one`,
    );
  }
  const current = temporaryBeside(installation, "rollback");
  try {
    await copySynced(installation.path, current);
    await rename(previous, installation.path);
    await rename(current, previous);
    await syncDirectory(installation.directory);
  } catch (error) {
    await rm(current, { force: true });
    throw writeError(installation, error);
  }
}
