import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { VerifyError, type VerifyErrorCode } from "../errors.js";
import { DEFAULT_CHUNK_BYTES, type FileDigest, sha256File } from "./sha256-file.js";
import { handOut, startHashingWorker, type WorkersStartedAhead } from "./workers.js";

type WorkerResult = { sha256: string; size: number } | { error: { code: VerifyErrorCode; message: string } };

export interface ParallelHashOptions {
  /**
   * Worker threads. Default: one per CPU besides this one, which hashes too, and no more than there
   * are files of a chunk or more (this thread takes the small ones); with thisThreadHelps false, one
   * per CPU.
   */
  readonly threads?: number;
  /** Stops the workers; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** False: only the workers hash (at least one is started), leaving this thread alone. Default true. */
  readonly thisThreadHelps?: boolean;
  /**
   * Workers started ahead from HASHING_WORKER_BOOTSTRAP, used before any new one is started; those
   * not needed are stopped.
   */
  readonly workers?: WorkersStartedAhead;
}

/** Indexes of `paths`, largest file first, so the long files start at once and the short ones fill in around them. */
function largestFirst(paths: readonly string[]): { order: number[]; sizes: number[] } {
  const sizes = paths.map((path) => {
    try {
      return statSync(path).size;
    } catch {
      return 0; // Whoever hashes it reports why it cannot be read.
    }
  });
  const order = paths.map((_, index) => index).sort((a, b) => (sizes[b] ?? 0) - (sizes[a] ?? 0));
  return { order, sizes };
}

/**
 * Workers to start. A worker costs about 20 ms of CPU before it hashes a byte (measured with Node 20);
 * this thread costs nothing to start. So when this thread helps, there is one worker per CPU besides
 * it, and none for a file under one chunk, which this thread hashes in well under a millisecond.
 */
function workerCount(sizes: readonly number[], options: ParallelHashOptions): number {
  const files = sizes.length;
  if (options.thisThreadHelps === false)
    return Math.max(1, Math.min(options.threads ?? availableParallelism(), files));
  const big = sizes.filter((size) => size >= DEFAULT_CHUNK_BYTES).length;
  const threads = options.threads ?? Math.min(availableParallelism() - 1, big);
  return Math.max(0, Math.min(threads, files - 1));
}

/**
 * SHA-256 of several files at once, each streamed with a 1 MiB buffer, so memory stays flat. Worker
 * threads take the files largest first; this thread takes the small ones, then the largest left, a
 * few chunks at a time between its other work (signatures to verify, say). Results come back in the
 * order of `paths`; a file that cannot be hashed gives its VerifyError in its place.
 */
export function sha256FilesInParallel(
  paths: readonly string[],
  options: ParallelHashOptions | number = {},
): Promise<Array<FileDigest | VerifyError>> {
  const settings = typeof options === "number" ? { threads: options } : options;
  const { signal, thisThreadHelps = true } = settings;
  if (signal?.aborted === true || paths.length === 0) settings.workers?.close();
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  if (paths.length === 0) return Promise.resolve([]);
  const { order, sizes } = largestFirst(paths);
  const shared = new SharedArrayBuffer(4 * (1 + order.length));
  const next = new Int32Array(shared, 0, 1);
  const claims = new Int32Array(shared, 4, order.length);
  const wanted = workerCount(sizes, settings);
  const workers = settings.workers?.take(wanted) ?? [];
  while (workers.length < wanted) workers.push(startHashingWorker());
  const list = order.map((index) => paths[index] as string);
  for (const worker of workers) handOut(worker, list, shared);
  const stop = () => Promise.all(workers.map((worker) => worker.terminate()));
  return new Promise<Array<FileDigest | VerifyError>>((resolve, reject) => {
    const results: Array<FileDigest | VerifyError> = new Array(paths.length);
    let received = 0;
    let exited = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", abort);
      outcome();
      // Workers end by themselves once the list runs out; this stops them on errors and aborts.
      stop().catch(() => undefined);
    };
    const answered = new Array<boolean>(order.length).fill(false);
    const mine = new Set<number>();
    const accept = (index: number, result: FileDigest | VerifyError) => {
      answered[index] = true;
      results[order[index] as number] = result;
      if (++received === paths.length) settle(() => resolve(results));
    };
    const abort = () => settle(() => reject(signal?.reason));
    signal?.addEventListener("abort", abort, { once: true });
    for (const worker of workers) {
      worker.on("message", ({ index, result }: { index: number; result: WorkerResult }) =>
        accept(index, "error" in result ? new VerifyError(result.error.code, result.error.message) : result),
      );
      worker.on("error", (error) => settle(() => reject(error)));
      worker.on("exit", () => {
        // Messages are delivered before "exit", so a file a worker claimed and never answered is lost.
        if (++exited === workers.length && answered.some((done, index) => !done && !mine.has(index)))
          settle(() =>
            reject(
              new Error(
                `a hashing worker stopped before it answered (${received} of ${paths.length} files hashed)`,
              ),
            ),
          );
      });
    }
    const hashHere = async (index: number) => {
      mine.add(index);
      const path = paths[order[index] as number] as string;
      accept(
        index,
        await sha256File(path, { readOnThisThread: true }).catch((error: unknown) => {
          if (error instanceof VerifyError) return error;
          throw error;
        }),
      );
    };
    const hashOnThisThread = async () => {
      // First the files under a chunk, from the back (each well under a millisecond); a worker
      // that got this far has claimed every file before it.
      for (let index = order.length - 1; index >= 0 && !settled; index--) {
        if ((sizes[order[index] as number] ?? 0) >= DEFAULT_CHUNK_BYTES) break;
        if (Atomics.compareExchange(claims, index, 0, 1) !== 0) return;
        await hashHere(index);
      }
      // Then, as the workers do, the largest file nobody has taken yet: by the time this thread is
      // free, a worker is well into the largest one, so this thread takes the next largest and the
      // two finish close together.
      for (
        let index = Atomics.add(next, 0, 1);
        index < order.length && !settled;
        index = Atomics.add(next, 0, 1)
      ) {
        if (Atomics.compareExchange(claims, index, 0, 1) === 0) await hashHere(index);
      }
    };
    if (thisThreadHelps) hashOnThisThread().catch((error: unknown) => settle(() => reject(error)));
  });
}
