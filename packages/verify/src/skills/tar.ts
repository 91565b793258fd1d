import { VerifyError } from "../errors.js";
import { SKILL_LIMITS } from "./limits.js";

/** A regular file in a skill archive; there is no other kind of entry. */
export interface SkillFile {
  readonly path: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;
/** Every entry is a regular file, mode 0644, owner 0:0 with no names, mtime 0: nothing of the packer's machine. */
const MODE = 0o644;

/** One path segment: no leading dot (so no '.', '..' or hidden files), ASCII letters, digits, '.', '_', '-'. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Why `path` cannot be a path in a skill archive, or undefined. */
export function skillPathProblem(path: string): string | undefined {
  if (Buffer.byteLength(path) > SKILL_LIMITS.pathBytes) {
    return `path ${JSON.stringify(path.slice(0, 40))}… is longer than ${SKILL_LIMITS.pathBytes} bytes`;
  }
  const segments = path.split("/");
  if (segments.length > SKILL_LIMITS.depth) {
    return `path ${JSON.stringify(path)} is deeper than ${SKILL_LIMITS.depth} directories`;
  }
  if (!segments.every((s) => SEGMENT.test(s))) {
    return `path ${JSON.stringify(path)} is not plain ASCII segments (letters, digits, '.', '_', '-', no leading dot)`;
  }
  return undefined;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function header(path: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(path, 0, "ascii");
  block.write(octal(MODE, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(0, 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write("0", 156, "ascii");
  block.write("ustar\0" + "00", 257, "ascii");
  block.write(octal(0, 8), 329, "ascii");
  block.write(octal(0, 8), 337, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

/**
 * The one tar stream a set of files has: entries sorted by the bytes of their paths, ustar headers with
 * fixed fields, two zero blocks at the end. Hand-written (a few dozen lines) so the reader below can
 * demand exactly this form, which no general tar writer promises.
 */
export function writeSkillTar(files: readonly SkillFile[]): Buffer {
  const sorted = [...files].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const parts: Buffer[] = [];
  for (const file of sorted) {
    const problem = skillPathProblem(file.path);
    if (problem !== undefined) throw new VerifyError("IC_SKILL_ARCHIVE_INVALID", problem);
    parts.push(header(file.path, file.data.length), Buffer.from(file.data));
    const pad = (BLOCK - (file.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  "1": "a hard link",
  "2": "a symbolic link",
  "3": "a character device",
  "4": "a block device",
  "5": "a directory entry",
  "6": "a FIFO",
  "7": "a contiguous file",
  x: "a pax extended header",
  g: "a pax global header",
  L: "a GNU long name",
  K: "a GNU long link name",
};

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString("latin1");
}

function refused(message: string): VerifyError {
  return new VerifyError("IC_SKILL_ARCHIVE_INVALID", `skill archive: ${message}`);
}

/**
 * Reads a skill's tar stream, refusing anything but regular files with plain paths, and then anything
 * that is not byte for byte what `writeSkillTar` makes of those files: one canonical form, so two
 * archives with the same files are the same archive.
 */
export function readSkillTar(tar: Buffer): SkillFile[] {
  const files: SkillFile[] = [];
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) throw refused("the tar stream ends without its end-of-archive blocks");
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    if (files.length >= SKILL_LIMITS.entries) throw refused(`more than ${SKILL_LIMITS.entries} entries`);
    const path = field(block, 0, 100);
    const type = String.fromCharCode(block[156] ?? 0);
    if (type !== "0") {
      const what = TYPE_NAMES[type] ?? `an entry of type ${JSON.stringify(type)}`;
      throw new VerifyError(
        "IC_SKILL_ENTRY_REFUSED",
        `skill archive: ${JSON.stringify(path)} is ${what}; a skill holds regular files only`,
      );
    }
    const problem = skillPathProblem(path);
    if (problem !== undefined) throw refused(problem);
    const sizeText = field(block, 124, 12);
    if (!/^[0-7]{1,11}$/.test(sizeText)) throw refused(`${path}: the size field is not octal`);
    const size = Number.parseInt(sizeText, 8);
    if (size > SKILL_LIMITS.fileBytes) {
      throw new VerifyError(
        "IC_SKILL_TOO_LARGE",
        `skill archive: ${path} is larger than ${SKILL_LIMITS.fileBytes} bytes`,
      );
    }
    const start = offset + BLOCK;
    if (start + size > tar.length) throw refused(`${path} is cut short`);
    if (files.some((file) => file.path === path)) throw refused(`${path} appears twice`);
    files.push({ path, data: tar.subarray(start, start + size) });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  if (!writeSkillTar(files).equals(tar)) {
    throw refused(
      "the tar stream is not in the canonical form `ironclaw skills pack` writes (sorted entries, mode 0644, owner 0, mtime 0, nothing after the end); pack it again with `ironclaw skills pack`",
    );
  }
  return files;
}
