import { resolve } from "node:path";
import { MAX_CHECKSUMS_BYTES, parseChecksums } from "../checksums/parse.js";
import { isVerifyError, VerifyError } from "../errors.js";
import type { ReadBoundedOptions } from "../files/read-bounded.js";
import { readNamed } from "../files/read-named.js";
import { sha256FilesInParallel } from "../hashing/parallel.js";
import type { FileDigest } from "../hashing/sha256-file.js";
import { MAX_BUNDLE_BYTES } from "../sigstore/bundle-document.js";
import { CHECKSUMS_BUNDLE_NAME, CHECKSUMS_NAME } from "./config.js";
import type { ReleaseArtifact } from "./verify-release.js";

/** One bundle per archive and executable: a release's attestations stay far below this. */
export const MAX_ATTESTATIONS_BYTES = 64 * 1024 * 1024;

/** What a release directory holds besides the files verified; only SHA256SUMS is required here. */
export interface ReleaseFiles {
  readonly checksums: Buffer;
  /** Absent when the directory has none: verifyRelease then fails the signature check of every file. */
  readonly signatureBundle?: Buffer;
  readonly attestations?: { readonly name: string; readonly bytes: Buffer };
}

async function readIfPresent(
  path: string,
  what: string,
  options: Omit<ReadBoundedOptions, "hint">,
): Promise<Buffer | undefined> {
  try {
    return await readNamed(path, what, undefined, options);
  } catch (error) {
    if (isVerifyError(error) && error.code === "IC_FILE_MISSING") return undefined;
    throw error;
  }
}

/**
 * SHA256SUMS, its signature bundle and the attestations file that SHA256SUMS lists, as `ironclaw
 * verify` reads them. A missing bundle or attestations file is left for verifyRelease to report as a
 * failed check of every file, so the summary shows it in the table like any other failure.
 */
export async function readReleaseFiles(dir: string): Promise<ReleaseFiles> {
  const checksums = await readNamed(
    resolve(dir, CHECKSUMS_NAME),
    "the release's checksums",
    "download the release's files there (SHA256SUMS, SHA256SUMS.sigstore.json, the .intoto.jsonl and the archives), or name the directory that holds them",
    { maxBytes: MAX_CHECKSUMS_BYTES, tooLargeCode: "IC_CHECKSUMS_TOO_LARGE" },
  );
  const signatureBundle = await readIfPresent(resolve(dir, CHECKSUMS_BUNDLE_NAME), CHECKSUMS_BUNDLE_NAME, {
    maxBytes: MAX_BUNDLE_BYTES,
    tooLargeCode: "IC_BUNDLE_TOO_LARGE",
  });
  // The attestations file is the one SHA256SUMS lists; a stray .jsonl in the directory counts for nothing.
  const listed = parseChecksums(checksums).entries.filter((entry) => entry.name.endsWith(".intoto.jsonl"));
  if (listed.length > 1) {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      `SHA256SUMS lists ${listed.length} .intoto.jsonl files (${listed.map((e) => e.name).join(", ")}); a release has exactly one`,
    );
  }
  const name = listed[0]?.name;
  const bytes =
    name === undefined
      ? undefined
      : await readIfPresent(resolve(dir, name), name, {
          maxBytes: MAX_ATTESTATIONS_BYTES,
          tooLargeCode: "IC_BUNDLE_TOO_LARGE",
        });
  return {
    checksums,
    ...(signatureBundle === undefined ? {} : { signatureBundle }),
    ...(name === undefined || bytes === undefined ? {} : { attestations: { name, bytes } }),
  };
}

/** The names SHA256SUMS lists, in its order: what is verified when the workflow names no files. */
export function listedNames(checksums: Uint8Array): string[] {
  return parseChecksums(checksums).entries.map((entry) => entry.name);
}

/**
 * Hashes the named files of `dir` on worker threads. Each keeps its name exactly as given, since that
 * is what its SHA256SUMS line must say; a file that cannot be read carries its error instead.
 */
export async function hashArtifacts(
  dir: string,
  names: readonly string[],
  options: { readonly listed?: boolean } = {},
): Promise<ReleaseArtifact[]> {
  return toReleaseArtifacts(
    names,
    await sha256FilesInParallel(names.map((name) => resolve(dir, name))),
    options,
  );
}

/** Pairs names with their digests (or the error that stopped a digest), as verifyRelease takes them. */
export function toReleaseArtifacts(
  names: readonly string[],
  digests: ReadonlyArray<FileDigest | VerifyError>,
  options: { readonly listed?: boolean } = {},
): ReleaseArtifact[] {
  const unlisted = options.listed === false ? { listed: false as const } : {};
  return names.map((name, index) => {
    const digest = digests[index];
    if (digest === undefined)
      return { name, problem: { code: "IC_FILE_READ", message: `${name} was not hashed` }, ...unlisted };
    if (digest instanceof VerifyError)
      return { name, problem: { code: digest.code, message: digest.message }, ...unlisted };
    return { name, sha256: digest.sha256, ...unlisted };
  });
}
