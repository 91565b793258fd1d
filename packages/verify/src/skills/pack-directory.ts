import { constants, type Stats } from "node:fs";
import { lstat, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { VerifyError } from "../errors.js";
import { describeType } from "../hashing/sha256-file.js";
import { packSkillFiles, readSkillArchive, type SkillArchive } from "./archive.js";
import { SKILL_LIMITS } from "./limits.js";
import { type SkillFile, skillPathProblem } from "./tar.js";

function refusedEntry(path: string, stats: Stats): VerifyError {
  return new VerifyError(
    "IC_SKILL_ENTRY_REFUSED",
    `${path} is ${stats.isSymbolicLink() ? "a symbolic link" : describeType(stats)}; a skill directory holds regular files and directories only (no symbolic links, devices, FIFOs or sockets). Replace it with the file itself or remove it`,
  );
}

/** Reads one file without following a link and without blocking on a FIFO swapped in after lstat. */
async function readRegular(path: string): Promise<Buffer> {
  const handle = await open(
    path,
    constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0),
  ).catch((cause: NodeJS.ErrnoException) => {
    throw new VerifyError(
      "IC_SKILL_ENTRY_REFUSED",
      `cannot open ${path} as a regular file: ${cause.message}`,
      { cause },
    );
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw refusedEntry(path, stats);
    if (stats.size > SKILL_LIMITS.fileBytes) {
      throw new VerifyError("IC_SKILL_TOO_LARGE", `${path} is larger than ${SKILL_LIMITS.fileBytes} bytes`);
    }
    const buffer = Buffer.alloc(stats.size + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > stats.size)
        throw new VerifyError("IC_SKILL_ENTRY_REFUSED", `${path} grew while it was read`);
    }
    return buffer.subarray(0, total);
  } finally {
    await handle.close();
  }
}

async function collect(
  root: string,
  relative: string,
  files: SkillFile[],
  totals: { bytes: number },
): Promise<void> {
  const directory = relative === "" ? root : join(root, relative);
  const names = (await readdir(directory)).sort();
  for (const name of names) {
    const path = relative === "" ? name : `${relative}/${name}`;
    const full = join(root, path);
    const stats = await lstat(full);
    if (!stats.isFile() && !stats.isDirectory()) throw refusedEntry(full, stats);
    const problem = skillPathProblem(path);
    if (problem !== undefined) throw new VerifyError("IC_SKILL_ARCHIVE_INVALID", `${full}: ${problem}`);
    if (stats.isDirectory()) {
      await collect(root, path, files, totals);
      continue;
    }
    if (files.length >= SKILL_LIMITS.entries) {
      throw new VerifyError("IC_SKILL_TOO_LARGE", `${root} holds more than ${SKILL_LIMITS.entries} files`);
    }
    const data = await readRegular(full);
    totals.bytes += data.length;
    if (totals.bytes > SKILL_LIMITS.tarBytes / 2) {
      throw new VerifyError(
        "IC_SKILL_TOO_LARGE",
        `${root} holds more than ${SKILL_LIMITS.tarBytes / 2} bytes`,
      );
    }
    files.push({ path, data });
  }
}

/**
 * Packs a skill directory into its reproducible archive: the bytes depend on the files' paths and
 * contents only (never mtimes, modes, owners or the umask), and the result is read back and checked
 * as a verifier would, so what `pack` writes is always something `verify` accepts.
 */
export async function packSkillDirectory(
  root: string,
): Promise<{ archive: Uint8Array; skill: SkillArchive }> {
  const stats = await lstat(root).catch((cause: NodeJS.ErrnoException) => {
    throw new VerifyError("IC_FILE_MISSING", `the skill directory ${root} cannot be read: ${cause.message}`, {
      cause,
    });
  });
  if (!stats.isDirectory()) {
    throw new VerifyError(
      "IC_FILE_NOT_REGULAR",
      `${root} is ${describeType(stats)}; give the skill's directory`,
    );
  }
  const files: SkillFile[] = [];
  await collect(root, "", files, { bytes: 0 });
  const archive = packSkillFiles(files);
  return { archive, skill: readSkillArchive(archive) };
}
