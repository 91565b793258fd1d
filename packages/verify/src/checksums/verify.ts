import { isVerifyError, type VerifyErrorCode } from "../errors.js";
import type { FileDigest } from "../hashing/sha256-file.js";
import type { ChecksumList } from "./types.js";

/**
 * OK: listed and matching. FAILED: listed, but the bytes do not match (or could not be trusted).
 * MISSING: listed, absent from disk. NOT_LISTED: asked for by name, absent from SHA256SUMS.
 * ERROR: listed, present, but unreadable for a reason of the environment.
 */
export type FileStatus = "OK" | "FAILED" | "MISSING" | "NOT_LISTED" | "ERROR";

export interface FileCheck {
  readonly name: string;
  readonly status: FileStatus;
  readonly expectedSha256?: string;
  readonly actualSha256?: string;
  readonly size?: number;
  readonly error?: { readonly code: VerifyErrorCode; readonly message: string };
}

export interface ChecksumsVerification {
  /** True only when every check required by the selection passed and at least one file was verified. */
  readonly ok: boolean;
  readonly files: readonly FileCheck[];
  readonly counts: Readonly<Record<FileStatus, number>>;
}

export type FileSelection =
  /** Every listed file, like `sha256sum -c --strict`; `ignoreMissing` skips absent ones. */
  | { readonly kind: "all"; readonly ignoreMissing?: boolean }
  /** Only these names; each must be listed, present and matching. */
  | { readonly kind: "named"; readonly names: readonly string[] };

export type HashByName = (name: string) => Promise<FileDigest>;

/**
 * Checks files against a parsed SHA256SUMS. `hashByName` is the only I/O: it hashes the file a
 * name refers to (in a directory, on a server, in memory for tests).
 */
export async function verifyChecksums(
  list: ChecksumList,
  selection: FileSelection,
  hashByName: HashByName,
): Promise<ChecksumsVerification> {
  const files: FileCheck[] = [];
  const names =
    selection.kind === "all" ? list.entries.map((entry) => entry.name) : [...new Set(selection.names)];
  for (const name of names) {
    const entry = list.byName.get(name);
    if (entry === undefined) {
      files.push({ name, status: "NOT_LISTED" });
      continue;
    }
    files.push(await checkOne(name, entry.sha256, hashByName));
  }
  const counts = countStatuses(files);
  const ignoreMissing = selection.kind === "all" && selection.ignoreMissing === true;
  const ok =
    counts.OK > 0 &&
    counts.FAILED === 0 &&
    counts.NOT_LISTED === 0 &&
    counts.ERROR === 0 &&
    (counts.MISSING === 0 || ignoreMissing);
  return { ok, files, counts };
}

async function checkOne(name: string, expected: string, hashByName: HashByName): Promise<FileCheck> {
  try {
    const digest = await hashByName(name);
    return {
      name,
      status: digest.sha256 === expected ? "OK" : "FAILED",
      expectedSha256: expected,
      actualSha256: digest.sha256,
      size: digest.size,
    };
  } catch (error) {
    if (!isVerifyError(error)) throw error;
    return {
      name,
      status: statusForError(error.code),
      expectedSha256: expected,
      error: { code: error.code, message: error.message },
    };
  }
}

function statusForError(code: VerifyErrorCode): FileStatus {
  switch (code) {
    case "IC_FILE_MISSING":
      return "MISSING";
    case "IC_FILE_READ":
      return "ERROR";
    default:
      // A file that changed under us, or a directory in its place: the answer is no.
      return "FAILED";
  }
}

function countStatuses(files: readonly FileCheck[]): Record<FileStatus, number> {
  const counts: Record<FileStatus, number> = { OK: 0, FAILED: 0, MISSING: 0, NOT_LISTED: 0, ERROR: 0 };
  for (const file of files) counts[file.status] += 1;
  return counts;
}
