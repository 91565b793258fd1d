import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, read, readSync, type Stats, statSync } from "node:fs";
import { VerifyError } from "../errors.js";
import { changedWhileHashingMessage, describeType } from "./file-messages.js";

export { changedWhileHashingMessage, describeType };

export interface FileDigest {
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** Bytes hashed. */
  readonly size: number;
}

export type DigestAlgorithm = "sha256" | "sha512";

export interface FileDigests {
  /** Lower-case hex digest of the file's bytes, per algorithm asked for. */
  readonly digests: Readonly<Partial<Record<DigestAlgorithm, string>>>;
  readonly size: number;
}

export interface HashFileOptions {
  /** Called after each chunk with the bytes hashed so far and the size the file had at open. */
  readonly onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /** Read size; two buffers of this size are the only memory the hash needs. */
  readonly chunkBytes?: number;
  /**
   * Read with synchronous reads on this thread, one buffer, handing the event loop back after every
   * `SLICE_BYTES` or so. For a thread that has nothing else to do but hash, this skips a round trip
   * through libuv's pool (and the wake-up after it) per chunk, which costs most when every CPU is busy.
   */
  readonly readOnThisThread?: boolean;
}

export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** How much readOnThisThread hashes between two turns of the event loop: about 2 ms of work. */
const SLICE_BYTES = 4 * 1024 * 1024;

/**
 * Hashes a regular file by streaming it through two alternating buffers: while one chunk is
 * hashed on this thread, the next is read on libuv's pool (a file under one chunk is read here).
 * Memory stays at two chunks whatever the file size. A file whose size or modification time moves while it is read is an error,
 * never a digest of bytes that no longer exist together.
 */
export async function sha256File(path: string, options: HashFileOptions = {}): Promise<FileDigest> {
  const { digests, size } = await digestFile(path, ["sha256"], options);
  return { sha256: digests.sha256 ?? "", size };
}

/**
 * The same single streaming pass, feeding every requested algorithm. A file no larger than one chunk
 * is read and hashed on this thread: for it, the trips through libuv's pool cost more than the read.
 */
export async function digestFile(
  path: string,
  algorithms: readonly DigestAlgorithm[],
  options: HashFileOptions = {},
): Promise<FileDigests> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const fd = openForReading(path);
  let pending: Promise<number> = Promise.resolve(0);
  try {
    const before = statDescriptor(fd, path);
    if (!before.isFile()) throw notRegular(path, before);
    const expectedSize = before.size;
    const hashes = algorithms.map((algorithm) => [algorithm, createHash(algorithm)] as const);
    let hashed = 0;
    if (expectedSize < chunkBytes) {
      // One byte more than the file had at open, so a file that grew is seen.
      const buffer = Buffer.allocUnsafe(expectedSize + 1);
      for (;;) {
        const length = readChunkSync(fd, buffer.subarray(hashed), hashed, path);
        if (length === 0) break;
        hashed += length;
        if (hashed > expectedSize) throw changedWhileHashing(path, expectedSize, "grew");
      }
      const bytes = buffer.subarray(0, hashed);
      for (const [, hash] of hashes) hash.update(bytes);
      if (hashed > 0) options.onProgress?.(hashed, expectedSize);
    } else if (options.readOnThisThread === true) {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      let sliced = 0;
      for (;;) {
        const length = readChunkSync(fd, buffer, hashed, path);
        if (length === 0) break;
        hashed += length;
        if (hashed > expectedSize) throw changedWhileHashing(path, expectedSize, "grew");
        const chunk = length === buffer.length ? buffer : buffer.subarray(0, length);
        for (const [, hash] of hashes) hash.update(chunk);
        options.onProgress?.(hashed, expectedSize);
        sliced += length;
        if (sliced >= SLICE_BYTES) {
          sliced = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
    } else {
      const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
      let filling: 0 | 1 = 0;
      pending = readChunk(fd, buffers[filling], 0, path);
      for (;;) {
        const length = await pending;
        if (length === 0) break;
        const filled = buffers[filling];
        hashed += length;
        if (hashed > expectedSize) throw changedWhileHashing(path, expectedSize, "grew");
        // Start the next read before hashing this chunk, so the two overlap.
        filling = filling === 0 ? 1 : 0;
        pending = readChunk(fd, buffers[filling], hashed, path);
        const chunk = length === filled.length ? filled : filled.subarray(0, length);
        for (const [, hash] of hashes) hash.update(chunk);
        options.onProgress?.(hashed, expectedSize);
      }
    }
    if (hashed !== expectedSize) throw changedWhileHashing(path, expectedSize, "shrank");
    const after = statDescriptor(fd, path);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw changedWhileHashing(path, expectedSize, "was modified");
    }
    const digests: Partial<Record<DigestAlgorithm, string>> = {};
    for (const [algorithm, hash] of hashes) digests[algorithm] = hash.digest("hex");
    return { digests, size: hashed };
  } finally {
    // Never close the descriptor under a read that is still in flight.
    await pending.catch(() => 0);
    closeSync(fd);
  }
}

function readChunk(fd: number, buffer: Buffer, position: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (cause, bytesRead) => {
      if (cause === null) resolve(bytesRead);
      else reject(new VerifyError("IC_FILE_READ", `cannot read ${path}: ${errorMessage(cause)}`, { cause }));
    });
  });
}

function readChunkSync(fd: number, buffer: Buffer, position: number, path: string): number {
  if (buffer.length === 0) return 0;
  try {
    return readSync(fd, buffer, 0, buffer.length, position);
  } catch (cause) {
    throw new VerifyError("IC_FILE_READ", `cannot read ${path}: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * Only a regular file is opened: opening a device acts (a tape rewinds, a watchdog starts), and a
 * release directory may hold a link to one. The descriptor is checked again after the open, for a
 * file replaced meanwhile. O_NONBLOCK so that opening a FIFO or device cannot hang.
 */
function openForReading(path: string): number {
  let found: Stats | undefined;
  try {
    found = statSync(path, { throwIfNoEntry: false });
  } catch {
    // A loop of links or a denied search: the open below meets it and says so.
  }
  if (found !== undefined && !found.isFile()) throw notRegular(path, found);
  const flags = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);
  try {
    return openSync(path, flags);
  } catch (cause) {
    if (errorCode(cause) === "ENOENT") {
      throw new VerifyError("IC_FILE_MISSING", `${path} does not exist`, { cause });
    }
    if (errorCode(cause) === "EISDIR") {
      throw new VerifyError("IC_FILE_NOT_REGULAR", `${path} is a directory; only files can be checksummed`, {
        cause,
      });
    }
    throw new VerifyError("IC_FILE_READ", `cannot open ${path}: ${errorMessage(cause)}`, { cause });
  }
}

function notRegular(path: string, stats: Stats): VerifyError {
  return new VerifyError(
    "IC_FILE_NOT_REGULAR",
    `${path} is not a regular file (${describeType(stats)}); only files can be checksummed`,
  );
}

function statDescriptor(fd: number, path: string): Stats {
  try {
    return fstatSync(fd);
  } catch (cause) {
    throw new VerifyError("IC_FILE_READ", `cannot stat ${path}: ${errorMessage(cause)}`, { cause });
  }
}

function changedWhileHashing(path: string, expectedSize: number, how: string): VerifyError {
  return new VerifyError("IC_FILE_CHANGED", changedWhileHashingMessage(path, expectedSize, how));
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
