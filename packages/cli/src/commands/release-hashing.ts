import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import {
  type FileDigest,
  MAX_CHECKSUMS_BYTES,
  parseChecksums,
  sha256FilesInParallel,
  type WorkersStartedAhead,
} from "@ironclaw/verify/checksums";
import type { VerifyError } from "@ironclaw/verify/errors";

/** The files a release verification reads, and their digests under way on worker threads. */
export interface ReleaseHashing {
  readonly dir: string;
  readonly names: readonly string[];
  readonly digests: Promise<Array<FileDigest | VerifyError>>;
}

/** A file's name as SHA256SUMS would list it: its path inside the release directory. */
function nameInRelease(dir: string, path: string): string {
  const inside = relative(dir, path);
  return inside.startsWith("..") || isAbsolute(inside) ? basename(path) : inside.split(sep).join("/");
}

/** Where a release's files are: --dir, else beside the first file named, else the working directory. */
export function releaseDirectory(
  cwd: string,
  paths: readonly string[],
  dirOption: string | undefined,
): string {
  const first = paths[0];
  return resolve(cwd, dirOption ?? (first === undefined ? "." : dirname(resolve(cwd, first))));
}

/**
 * Starts hashing the files `ironclaw verify` was given (or every file SHA256SUMS lists) on worker
 * threads, and returns at once: reading the files is the long pole of a verification, so it starts
 * before the rest of the verification code is even loaded. Synchronous, so that the workers exist
 * before the caller goes on to load and run anything else. Only light modules are imported here. When
 * SHA256SUMS cannot be read or parsed, nothing starts (`workers`, started ahead, are stopped) and the
 * verification reports it in its own words.
 */
export function startReleaseHashing(
  cwd: string,
  paths: readonly string[],
  dirOption: string | undefined,
  signal?: AbortSignal,
  workers?: WorkersStartedAhead,
): ReleaseHashing | undefined {
  let hashing: ReleaseHashing | undefined;
  try {
    hashing = listAndHash(cwd, paths, dirOption, signal, workers);
  } finally {
    if (hashing === undefined) workers?.close();
  }
  return hashing;
}

function listAndHash(
  cwd: string,
  paths: readonly string[],
  dirOption: string | undefined,
  signal: AbortSignal | undefined,
  workers: WorkersStartedAhead | undefined,
): ReleaseHashing | undefined {
  const dir = releaseDirectory(cwd, paths, dirOption);
  let names: string[];
  if (paths.length > 0) names = paths.map((path) => nameInRelease(dir, resolve(cwd, path)));
  else {
    try {
      const checksums = readSmallRegularFile(resolve(dir, "SHA256SUMS"));
      if (checksums === undefined) return undefined;
      names = parseChecksums(checksums).entries.map((entry) => entry.name);
    } catch {
      return undefined;
    }
  }
  const digests = sha256FilesInParallel(
    names.map((name) => resolve(dir, name)),
    {
      ...(signal === undefined ? {} : { signal }),
      ...(workers === undefined ? {} : { workers }),
    },
  );
  // Observed here so a failure cannot go unhandled before the verification awaits it.
  digests.catch(() => undefined);
  return { dir, names, digests };
}

/** A regular file within the SHA256SUMS size limit; never blocks on a FIFO, nor opens a device (that acts). */
function readSmallRegularFile(path: string): Buffer | undefined {
  if (statSync(path, { throwIfNoEntry: false })?.isFile() !== true) return undefined;
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = fstatSync(fd);
    return stats.isFile() && stats.size <= MAX_CHECKSUMS_BYTES ? readFileSync(fd) : undefined;
  } finally {
    closeSync(fd);
  }
}
