import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Parser, type ReadEntry } from "tar";
import { PackageStoreError } from "./errors.js";

export interface UnpackLimits {
  /** Most bytes of file content, all files together. */
  readonly maxUnpackedBytes: number;
  /** Most entries (files and directories). */
  readonly maxEntries: number;
}

interface Entry {
  readonly segments: readonly string[];
  readonly data: Buffer | null;
}

function refuse(tarball: string, what: string): PackageStoreError {
  return new PackageStoreError(
    "IC_PACKAGE_TARBALL",
    `${tarball}: ${what}; a package holds only regular files and directories inside itself, so nothing of it was unpacked`,
  );
}

/**
 * The path below the tarball's top directory (npm's `package/`), as segments; refused when it could
 * leave the package or means something other than a plain relative name.
 */
function segmentsOf(tarball: string, path: string): string[] {
  if (path.includes("\0") || path.includes("\\"))
    throw refuse(tarball, `entry ${JSON.stringify(path)} holds NUL or '\\'`);
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path))
    throw refuse(tarball, `entry ${JSON.stringify(path)} is absolute`);
  if (path.length > 4096) throw refuse(tarball, "an entry's path is over 4096 characters");
  const parts = path.split("/");
  if (parts.at(-1) === "") parts.pop();
  for (const part of parts) {
    if (part === "" || part === "." || part === "..") {
      throw refuse(
        tarball,
        `entry ${JSON.stringify(path)} is not a plain relative path (empty, '.' or '..')`,
      );
    }
    if (Buffer.byteLength(part) > 255)
      throw refuse(tarball, `a name in ${JSON.stringify(path.slice(0, 200))} is over 255 bytes`);
  }
  return parts.slice(1);
}

/** Reads the whole (gzipped) tarball in memory, refusing anything but files and directories. */
export function readTarball(bytes: Buffer, tarball: string, limits: UnpackLimits): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let total = 0;
    let failure: PackageStoreError | undefined;
    const parser = new Parser({
      strict: true,
      maxMetaEntrySize: 64 * 1024,
      onReadEntry: (read: ReadEntry) => {
        try {
          entries.push(readEntry(read));
        } catch (error) {
          failure ??= error as PackageStoreError;
          parser.abort(failure);
        }
      },
    });
    const readEntry = (read: ReadEntry): Entry => {
      if (entries.length + 1 > limits.maxEntries)
        throw refuse(tarball, `it has more than ${limits.maxEntries} entries`);
      const segments = segmentsOf(tarball, read.path);
      if (read.type === "Directory") {
        read.resume();
        return { segments, data: null };
      }
      if (read.type !== "File" && read.type !== "OldFile") {
        const target = read.linkpath ? ` → ${JSON.stringify(read.linkpath)}` : "";
        throw refuse(tarball, `entry ${JSON.stringify(read.path)} is a ${read.type}${target}`);
      }
      if (segments.length === 0)
        throw refuse(tarball, `entry ${JSON.stringify(read.path)} is a file at the top`);
      total += read.size;
      if (total > limits.maxUnpackedBytes) {
        throw refuse(tarball, `its files hold more than ${limits.maxUnpackedBytes} bytes`);
      }
      const chunks: Buffer[] = [];
      read.on("data", (chunk: Buffer) => chunks.push(chunk));
      const entry = { segments, data: Buffer.alloc(0) };
      read.on("end", () => {
        (entry as { data: Buffer }).data = Buffer.concat(chunks);
      });
      return entry;
    };
    parser.on("error", (error: Error) =>
      reject(failure ?? refuse(tarball, `it is not a readable tarball: ${error.message}`)),
    );
    parser.on("end", () => (failure === undefined ? resolve(entries) : reject(failure)));
    parser.end(bytes);
  });
}

/**
 * Writes the entries into a fresh directory beside `final`, makes files 0444 and directories 0555,
 * then renames it into place: the store holds a whole package or none. Another install of the same
 * bytes that got there first wins, and this one's copy is removed.
 */
export async function writeStore(entries: readonly Entry[], final: string, tarball: string): Promise<void> {
  const parent = join(final, "..");
  const temp = join(parent, `${TEMPORARY_PREFIX}${process.pid}-${randomBytes(8).toString("hex")}`);
  try {
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await mkdir(temp, { mode: 0o700 });
    if (
      !entries.some((e) => e.data !== null && e.segments.length === 1 && e.segments[0] === "package.json")
    ) {
      throw refuse(tarball, "it has no package.json at its top");
    }
    const dirs = new Set<string>([temp]);
    for (const { segments, data } of entries) {
      if (segments.length === 0) continue;
      const path = join(temp, ...segments);
      const dir = data === null ? path : join(temp, ...segments.slice(0, -1));
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        for (let i = 1; i <= segments.length - (data === null ? 0 : 1); i++)
          dirs.add(join(temp, ...segments.slice(0, i)));
        if (data !== null) await writeFile(path, data, { flag: "wx", mode: 0o600 });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR") {
          throw refuse(
            tarball,
            `entry ${JSON.stringify(segments.join("/"))} is listed twice or both file and directory`,
          );
        }
        throw error;
      }
    }
    for (const { segments, data } of entries) {
      if (data !== null) await chmod(join(temp, ...segments), 0o444);
    }
    // Deepest first, so no directory is closed before what is under it is done.
    for (const dir of [...dirs].sort((a, b) => b.length - a.length)) await chmod(dir, 0o555);
    try {
      await rename(temp, final);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === "EEXIST" || code === "ENOTEMPTY") && (await lstat(final)).isDirectory()) {
        await removeTree(temp);
        return;
      }
      throw error;
    }
  } catch (error) {
    await removeTree(temp).catch(() => undefined);
    if (error instanceof PackageStoreError) throw error;
    throw new PackageStoreError(
      "IC_PACKAGE_STORE_IO",
      `writing ${tarball} into the package store at ${parent} failed: ${(error as Error).message}; check the disk and the state directory's permissions`,
      { cause: error },
    );
  }
}

const TEMPORARY_PREFIX = ".unpack-";

/**
 * Removes what installs killed mid-way left beside the store (their process is gone): a temporary
 * directory is never renamed into place unless whole, so it is only ever litter, never a package.
 */
export async function sweepAbandoned(parent: string): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(TEMPORARY_PREFIX)) continue;
    const pid = Number(name.slice(TEMPORARY_PREFIX.length).split("-")[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) continue;
    await removeTree(join(parent, name));
    removed.push(name);
  }
  return removed;
}

/** Signal 0 sends nothing: it only asks whether the process exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes a tree this store made read-only: its directories are opened for writing first. */
export async function removeTree(root: string): Promise<void> {
  const open = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await open(join(dir, entry.name));
    }
  };
  await open(root).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
