import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { gzipDeterministic } from "../archive/gzip.js";
import { VerifyError } from "../errors.js";
import { SKILL_LIMITS, SKILL_MANIFEST } from "./limits.js";
import { parseSkillManifest, type SkillManifest } from "./manifest.js";
import { readSkillTar, type SkillFile, writeSkillTar } from "./tar.js";

/** A skill archive, unpacked in memory and checked. */
export interface SkillArchive {
  /** `sha256:<hex>` of the .tar.gz bytes: what is signed, and what a `skills` change names. */
  readonly digest: string;
  readonly manifest: SkillManifest;
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

export function skillDigest(archive: Uint8Array): string {
  return `sha256:${createHash("sha256").update(archive).digest("hex")}`;
}

/** The .tar.gz of a skill's files: the canonical tar stream, compressed with the deterministic gzip. */
export function packSkillFiles(files: readonly SkillFile[]): Uint8Array {
  checkManifestPresent(files);
  const tar = writeSkillTar(files);
  if (tar.length > SKILL_LIMITS.tarBytes) {
    throw new VerifyError(
      "IC_SKILL_TOO_LARGE",
      `the skill unpacks to more than ${SKILL_LIMITS.tarBytes} bytes`,
    );
  }
  const archive = gzipDeterministic(tar);
  if (archive.length > SKILL_LIMITS.archiveBytes) {
    throw new VerifyError(
      "IC_SKILL_TOO_LARGE",
      `the archive is larger than ${SKILL_LIMITS.archiveBytes} bytes`,
    );
  }
  return archive;
}

function checkManifestPresent(files: readonly SkillFile[]): SkillFile {
  const manifest = files.find((file) => file.path === SKILL_MANIFEST);
  if (manifest === undefined) {
    throw new VerifyError(
      "IC_SKILL_MANIFEST_INVALID",
      `a skill has ${SKILL_MANIFEST} at its root; this one has none`,
    );
  }
  if (manifest.data.length > SKILL_LIMITS.manifestBytes) {
    throw new VerifyError(
      "IC_SKILL_TOO_LARGE",
      `${SKILL_MANIFEST} is larger than ${SKILL_LIMITS.manifestBytes} bytes`,
    );
  }
  return manifest;
}

function manifestOf(files: readonly SkillFile[]): SkillManifest {
  const data = checkManifestPresent(files).data;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new VerifyError("IC_SKILL_MANIFEST_INVALID", `${SKILL_MANIFEST} is not UTF-8`);
  }
  return parseSkillManifest(text);
}

/** Unpacks (bounded: gunzip stops at the cap) and checks a skill archive and its SKILL.md. */
export function readSkillArchive(archive: Uint8Array): SkillArchive {
  if (archive.length > SKILL_LIMITS.archiveBytes) {
    throw new VerifyError(
      "IC_SKILL_TOO_LARGE",
      `the archive is larger than ${SKILL_LIMITS.archiveBytes} bytes`,
    );
  }
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: SKILL_LIMITS.tarBytes });
  } catch (cause) {
    const tooLarge = (cause as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
    throw new VerifyError(
      tooLarge ? "IC_SKILL_TOO_LARGE" : "IC_SKILL_ARCHIVE_INVALID",
      tooLarge
        ? `the archive unpacks to more than ${SKILL_LIMITS.tarBytes} bytes`
        : `the skill archive is not gzip: ${(cause as Error).message}`,
      { cause },
    );
  }
  const files = readSkillTar(tar);
  return {
    digest: skillDigest(archive),
    manifest: manifestOf(files),
    files: files.map((file) => ({ path: file.path, size: file.data.length })),
  };
}
