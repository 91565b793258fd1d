import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { stat } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import {
  HASHING_WORKER_BOOTSTRAP,
  sha256File,
  sha256FilesInParallel,
  VerifyError,
  type WorkersStartedAhead,
} from "@ironclaw/verify";
import { afterAll, describe, expect, it } from "vitest";
import { waitingWriter } from "../../../test/support/fifo-writer.js";

const work = mkdtempSync(join(tmpdir(), "ironclaw-parallel-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A worker is an OS thread of this process, made when the Worker is constructed, gone when it exits.
const threads = () => readdirSync("/proc/self/task").length;

async function threadsBackTo(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (threads() > count) {
    if (Date.now() > deadline) throw new Error(`${threads() - count} thread(s) still running`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Workers started ahead, as a caller (the `ironclaw verify` prefetch) starts them. */
function startAhead(count: number): WorkersStartedAhead & { readonly size: number } {
  let idle = Array.from({ length: count }, () => new Worker(HASHING_WORKER_BOOTSTRAP, { eval: true }));
  return {
    get size() {
      return idle.length;
    },
    take(wanted) {
      const taken = idle.slice(0, wanted);
      for (const worker of idle.slice(wanted)) void worker.terminate();
      idle = [];
      return taken;
    },
    close() {
      for (const worker of idle) void worker.terminate();
      idle = [];
    },
  };
}

/** The thread count once the workers of earlier tests have exited (and libuv's pool is up). */
async function quietThreads(): Promise<number> {
  await stat(work);
  let count = threads();
  for (let unchanged = 0; unchanged < 10; ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = threads();
    unchanged = now === count ? unchanged + 1 : 0;
    count = now;
  }
  return count;
}

describe("sha256FilesInParallel", () => {
  it("gives the same digests as sha256File, in the order asked, across chunk boundaries", async () => {
    const sizes = [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7];
    const paths = sizes.map((size, index) => {
      const path = join(work, `file-${index}`);
      writeFileSync(path, randomBytes(size));
      return path;
    });
    const results = await sha256FilesInParallel(paths, 2);
    for (const [index, path] of paths.entries()) {
      expect(results[index]).toEqual(await sha256File(path));
    }
    expect((results[0] as { sha256: string }).sha256).toBe(createHash("sha256").digest("hex"));
  });

  it("reports each unhashable file as its VerifyError, leaving the others hashed", async () => {
    const good = join(work, "good");
    writeFileSync(good, "good");
    const directory = join(work, "a-directory");
    mkdirSync(directory);
    const fifo = join(work, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const results = await sha256FilesInParallel([join(work, "absent"), good, directory, fifo]);
    expect(results.map((result) => (result instanceof VerifyError ? result.code : "ok"))).toEqual([
      "IC_FILE_MISSING",
      "ok",
      "IC_FILE_NOT_REGULAR",
      "IC_FILE_NOT_REGULAR",
    ]);
  });

  it("gives every file its digest whatever the number of workers, this thread alone included", async () => {
    const paths = Array.from({ length: 23 }, (_, index) => {
      const path = join(work, `mixed-${index}`);
      writeFileSync(path, randomBytes((index * 7919) % (3 << 20)));
      return path;
    });
    // The same file twice gets its digest twice, in both places.
    const asked = [...paths, paths[3] as string];
    const expected = await Promise.all(asked.map((path) => sha256File(path)));
    for (const threads of [0, 1, 2, 5]) {
      expect(await sha256FilesInParallel(asked, { threads })).toEqual(expected);
      expect(await sha256FilesInParallel(asked, { threads, thisThreadHelps: false })).toEqual(expected);
    }
  });

  it("words each failure the same whichever thread met it", async () => {
    const directory = join(work, "another-directory");
    mkdirSync(directory);
    const fifo = join(work, "another-fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    for (const unhashable of [join(work, "not-there"), directory, fifo]) {
      // Alone, this thread hashes it, without starting a worker; told not to help, a worker does.
      const [onThisThread] = await sha256FilesInParallel([unhashable], { threads: 1 });
      const [onAWorker] = await sha256FilesInParallel([unhashable], { threads: 1, thisThreadHelps: false });
      expect(onThisThread).toBeInstanceOf(VerifyError);
      expect(onAWorker).toBeInstanceOf(VerifyError);
      const [worker, main] = [onAWorker as VerifyError, onThisThread as VerifyError];
      expect([worker.code, worker.message]).toEqual([main.code, main.message]);
    }
  });

  it("stops the workers and rejects with the reason when aborted", async () => {
    const big = join(work, "big");
    writeFileSync(big, randomBytes(8 << 20));
    const controller = new AbortController();
    const hashing = sha256FilesInParallel([big, big, big, big], { threads: 2, signal: controller.signal });
    const reason = new Error("not needed");
    controller.abort(reason);
    await expect(hashing).rejects.toBe(reason);
    const aborted = new AbortController();
    aborted.abort(reason);
    await expect(sha256FilesInParallel([big], { signal: aborted.signal })).rejects.toBe(reason);
  });

  it.runIf(process.platform === "linux")(
    "starts no worker for files under a chunk, and one per CPU besides this thread for larger ones",
    async () => {
      const idle = await quietThreads();
      const small = [1, 1000, (1 << 20) - 1].map((size, index) => {
        const path = join(work, `small-${index}`);
        writeFileSync(path, randomBytes(size));
        return path;
      });
      const big = [1 << 20, 2 << 20, 3 << 20].map((size, index) => {
        const path = join(work, `large-${index}`);
        writeFileSync(path, randomBytes(size));
        return path;
      });
      const digests = new Map<string, unknown>();
      for (const path of [...small, ...big]) digests.set(path, await sha256File(path));
      for (const [paths, options, workers] of [
        [small, {}, 0],
        [[...small, ...big], {}, Math.min(availableParallelism() - 1, big.length)],
        [[...small, ...big], { threads: 2 }, 2],
        [big, { threads: 1, thisThreadHelps: false }, 1],
      ] as const) {
        const hashing = sha256FilesInParallel(paths, options);
        expect(threads() - idle).toBe(workers);
        expect(await hashing).toEqual(paths.map((path) => digests.get(path)));
        await threadsBackTo(idle); // every worker has exited
      }
    },
  );

  it.runIf(process.platform === "linux")(
    "hashes with workers started ahead, starting none of its own, and stops those it does not need",
    async () => {
      const idle = await quietThreads();
      const big = [2 << 20, 3 << 20, 1 << 20].map((size, index) => {
        const path = join(work, `ahead-${index}`);
        writeFileSync(path, randomBytes(size));
        return path;
      });
      const expected = await Promise.all(big.map((path) => sha256File(path)));
      const ahead = startAhead(2);
      expect(ahead.size).toBe(2);
      expect(threads() - idle).toBe(2);
      const hashing = sha256FilesInParallel(big, { threads: 2, workers: ahead });
      expect(threads() - idle).toBe(2); // the two taken, none started
      expect(ahead.size).toBe(0);
      expect(await hashing).toEqual(expected);
      await threadsBackTo(idle);
      // More than needed, nothing to hash, or aborted: every worker not taken is stopped.
      const surplus = startAhead(3);
      expect(await sha256FilesInParallel(big, { threads: 1, workers: surplus })).toEqual(expected);
      const unused = startAhead(2);
      expect(await sha256FilesInParallel([], { workers: unused })).toEqual([]);
      const aborted = startAhead(2);
      const controller = new AbortController();
      controller.abort(new Error("no"));
      await expect(
        sha256FilesInParallel(big, { workers: aborted, signal: controller.signal }),
      ).rejects.toThrow("no");
      for (const pool of [surplus, unused, aborted]) expect(pool.size).toBe(0);
      await threadsBackTo(idle);
    },
  );

  it("hashes in workers under --disallow-code-generation-from-strings (NODE_OPTIONS may hold it)", () => {
    const dir = join(work, "no-code-from-strings");
    mkdirSync(dir);
    const paths = ["a", "b"].map((name) => join(dir, name));
    for (const path of paths) writeFileSync(path, randomBytes(3 * 1024 * 1024 + 7));
    const script = join(dir, "hash.mjs");
    const checksums = new URL("../dist/checksums.js", import.meta.url).href;
    writeFileSync(
      script,
      `import { sha256FilesInParallel } from ${JSON.stringify(checksums)};\n` +
        `const results = await sha256FilesInParallel(${JSON.stringify(paths)}, { threads: 2, thisThreadHelps: false });\n` +
        "process.stdout.write(JSON.stringify(results.map((result) => result.sha256 ?? String(result))));\n",
    );
    const child = spawnSync(process.execPath, ["--disallow-code-generation-from-strings", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(child.stderr).toBe("");
    expect(JSON.parse(child.stdout)).toEqual(
      paths.map((path) => createHash("sha256").update(readFileSync(path)).digest("hex")),
    );
  });

  it("never opens what is not a regular file (opening a device acts), on either thread", async () => {
    const dir = join(work, "never-opened");
    mkdirSync(dir);
    const fifo = join(dir, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    symlinkSync(fifo, join(dir, "link"));
    const big = join(dir, "big");
    writeFileSync(big, randomBytes(2 * 1024 * 1024));
    const writer = await waitingWriter(fifo);
    const inWorkers = await sha256FilesInParallel([big, fifo, join(dir, "link")], {
      threads: 2,
      thisThreadHelps: false,
    });
    const here = await Promise.all(
      [fifo, join(dir, "link")].map((path) => sha256File(path).catch((error: unknown) => error)),
    );
    for (const result of [...inWorkers.slice(1), ...here]) {
      expect(result).toBeInstanceOf(VerifyError);
      expect((result as VerifyError).code).toBe("IC_FILE_NOT_REGULAR");
      expect((result as VerifyError).message).toContain("(a FIFO)");
    }
    expect(await writer.opened()).toBe(false);
    await writer.release();
  });

  it("answers an empty list without starting workers", async () => {
    expect(await sha256FilesInParallel([])).toEqual([]);
  });
});
