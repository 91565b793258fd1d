import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { type FileDigest, parseChecksums, sha256FilesInParallel } from "@ironclaw/verify/checksums";
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

/**
 * Starts hashing before the verification code (sigstore-js and the rest) is even loaded: reading the
 * files is the long pole of `ironclaw verify`. Only light modules are imported here. When SHA256SUMS
 * cannot be read or parsed, nothing starts and the verification reports it in its own words.
 */
export async function startReleaseHashing(
  cwd: string,
  paths: readonly string[],
  dirOption: string | undefined,
): Promise<ReleaseHashing | undefined> {
  const first = paths[0];
  const dir = resolve(cwd, dirOption ?? (first === undefined ? "." : dirname(resolve(cwd, first))));
  let names: string[];
  if (paths.length > 0) names = paths.map((path) => nameInRelease(dir, resolve(cwd, path)));
  else {
    try {
      names = parseChecksums(await readFile(resolve(dir, "SHA256SUMS"))).entries.map((entry) => entry.name);
    } catch {
      return undefined;
    }
  }
  const digests = sha256FilesInParallel(names.map((name) => resolve(dir, name)));
  // Observed here so a failure cannot go unhandled before the verification awaits it.
  digests.catch(() => undefined);
  return { dir, names, digests };
}
