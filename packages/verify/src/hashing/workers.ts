import type { Worker } from "node:worker_threads";
import { changedWhileHashingMessage, describeType } from "./file-messages.js";

/**
 * What a hashing worker is started with: it loads what hashing needs, then waits for one message
 * with the hashing loop's source and its list, so it can be started before either is known (and by
 * code that does not load this module: the `ironclaw verify` prefetch keeps a copy, which a test
 * holds to this one). The source comes from this thread, never from a file or the network. It is
 * compiled by vm, not new Function, which --disallow-code-generation-from-strings (a hardening flag a
 * user may put in NODE_OPTIONS) refuses.
 */
export const HASHING_WORKER_BOOTSTRAP =
  'const { parentPort } = require("node:worker_threads"); require("node:crypto"); ' +
  'parentPort.once("message", ({ source, data }) => require("node:vm").compileFunction(source, ["require", "parentPort", "data"])(require, parentPort, data));';

/**
 * The hashing loop, run by a worker started from HASHING_WORKER_BOOTSTRAP, as self-contained CommonJS
 * (so it runs the same from the TypeScript build, the bundle and the standalone executable, which has
 * no file to start a worker from). It applies sha256File's rules: regular files only, opened without
 * blocking, and a file that grows, shrinks or is rewritten while it is read is an error.
 */
const WORKER_SOURCE = `
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const buffer = Buffer.allocUnsafe(1 << 20);
function fail(code, message) { return { error: { code, message } }; }
function hash(path) {
  // Only a regular file is opened (sha256File's rule: opening a device acts); the descriptor is checked again.
  let found;
  try { found = fs.statSync(path, { throwIfNoEntry: false }); } catch {}
  if (found !== undefined && !found.isFile()) return notRegular(path, found);
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
    if (!before.isFile()) return notRegular(path, before);
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
// sha256File's own words, compiled in, so a message does not depend on which thread hashed the file.
const describeType = ${describeType.toString()};
const changedMessage = ${changedWhileHashingMessage.toString()};
function notRegular(path, stats) {
  return fail("IC_FILE_NOT_REGULAR", path + " is not a regular file (" + describeType(stats) + "); only files can be checksummed");
}
function changed(path, size, how) {
  return fail("IC_FILE_CHANGED", changedMessage(path, size, how));
}
// Workers walk the list from the front through a shared counter, so a worker that finishes early takes
// the next file at once, even while the main thread is busy. A file is hashed by whoever claims it
// first; the main thread claims the small files from the back, then joins the walk from the front.
const { paths, shared } = data;
const next = new Int32Array(shared, 0, 1);
const claims = new Int32Array(shared, 4, paths.length);
for (let index = Atomics.add(next, 0, 1); index < paths.length; index = Atomics.add(next, 0, 1)) {
  if (Atomics.compareExchange(claims, index, 0, 1) === 0) parentPort.postMessage({ index, result: hash(paths[index]) });
}
`;

/** Workers started from HASHING_WORKER_BOOTSTRAP before the files to hash were known. */
export interface WorkersStartedAhead {
  /** Up to `count` of the workers, for one hashing; the others are stopped. */
  take(count: number): Worker[];
  /** Stops the workers not taken. */
  close(): void;
}

/** One hashing worker; give it its list with `handOut`. */
export function startHashingWorker(): Worker {
  // Required here, not imported: commands that load this module without hashing in parallel
  // (checksums verify, verify-bundle) would otherwise pay for worker_threads at start-up.
  const { Worker } = process.getBuiltinModule("node:worker_threads");
  return new Worker(HASHING_WORKER_BOOTSTRAP, { eval: true });
}

/** Gives a worker the hashing loop and the list to claim files from; a worker takes one list. */
export function handOut(worker: Worker, paths: readonly string[], shared: SharedArrayBuffer): void {
  worker.postMessage({ source: WORKER_SOURCE, data: { paths, shared } });
}
