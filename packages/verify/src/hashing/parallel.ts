import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { VerifyError, type VerifyErrorCode } from "../errors.js";
import type { FileDigest } from "./sha256-file.js";

/**
 * The hashing loop of a worker thread, as self-contained CommonJS evaluated from a string, so it runs
 * the same from the TypeScript build, the bundle and the standalone executable (which has no file to
 * start a worker from). It applies sha256File's rules: regular files only, opened without blocking,
 * and a file that grows, shrinks or is rewritten while it is read is an error.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const buffer = Buffer.allocUnsafe(1 << 20);
function fail(code, message) { return { error: { code, message } }; }
function hash(path) {
  let fd;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK || 0));
  } catch (error) {
    if (error.code === "ENOENT") return fail("IC_FILE_MISSING", path + " does not exist");
    if (error.code === "EISDIR") return fail("IC_FILE_NOT_REGULAR", path + " is a directory; only files can be checksummed");
    return fail("IC_FILE_READ", "cannot open " + path + ": " + error.message);
  }
  try {
    const before = fs.fstatSync(fd);
    if (!before.isFile()) return fail("IC_FILE_NOT_REGULAR", path + " is not a regular file; only files can be checksummed");
    const digest = createHash("sha256");
    let total = 0;
    for (;;) {
      const read = fs.readSync(fd, buffer, 0, buffer.length, total);
      if (read === 0) break;
      total += read;
      if (total > before.size) return changed(path, before.size, "grew");
      digest.update(read === buffer.length ? buffer : buffer.subarray(0, read));
    }
    if (total !== before.size) return changed(path, before.size, "shrank");
    const after = fs.fstatSync(fd);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) return changed(path, before.size, "was modified");
    return { sha256: digest.digest("hex"), size: total };
  } catch (error) {
    return fail("IC_FILE_READ", "cannot read " + path + ": " + error.message);
  } finally {
    fs.closeSync(fd);
  }
}
function changed(path, size, how) {
  return fail("IC_FILE_CHANGED", path + " " + how + " while it was being hashed (it had " + size + " bytes when opened); its checksum cannot be trusted, so wait until nothing writes to it and verify again");
}
parentPort.on("message", ({ index, path }) => parentPort.postMessage({ index, result: hash(path) }));
`;

type WorkerResult = { sha256: string; size: number } | { error: { code: VerifyErrorCode; message: string } };

/**
 * SHA-256 of several files at once, each streamed through a worker thread with a 1 MiB buffer, so the
 * main thread stays free (to verify signatures meanwhile) and memory stays flat. Results come back in
 * the order of `paths`; a file that cannot be hashed gives its VerifyError in its place.
 */
export async function sha256FilesInParallel(
  paths: readonly string[],
  threads = availableParallelism(),
): Promise<Array<FileDigest | VerifyError>> {
  const results: Array<FileDigest | VerifyError> = new Array(paths.length);
  if (paths.length === 0) return results;
  const workers = Array.from(
    { length: Math.max(1, Math.min(threads, paths.length)) },
    () => new Worker(WORKER_SOURCE, { eval: true }),
  );
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= paths.length) return resolve();
              const index = next++;
              worker.postMessage({ index, path: paths[index] });
            };
            worker.on("message", ({ index, result }: { index: number; result: WorkerResult }) => {
              results[index] =
                "error" in result ? new VerifyError(result.error.code, result.error.message) : result;
              feed();
            });
            worker.on("error", reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return results;
}
