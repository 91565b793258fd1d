import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File, VerifyError, type VerifyErrorCode } from "@ironclaw/verify";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "ironclaw-hash-"));
afterAll(() => spawnSync("rm", ["-rf", work]));

function file(name: string, content: Uint8Array | string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

async function expectCode(promise: Promise<unknown>, code: VerifyErrorCode): Promise<VerifyError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, but hashing succeeded`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(VerifyError);
  expect((error as VerifyError).code).toBe(code);
  return error as VerifyError;
}

describe("sha256File", () => {
  it("hashes a 0-byte file to the SHA-256 of nothing", async () => {
    expect(await sha256File(file("empty", ""))).toEqual({
      sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      size: 0,
    });
  });

  it("matches the FIPS 180-2 'abc' vector", async () => {
    expect((await sha256File(file("abc", "abc"))).sha256).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it.each([1, 4095, 4096, 4097, 8192, 12_289])(
    "matches a one-shot hash for %i bytes read in 4 KiB chunks (chunk boundaries)",
    async (size) => {
      const content = randomBytes(size);
      const path = file(`random-${size}`, content);
      const expected = createHash("sha256").update(content).digest("hex");
      expect(await sha256File(path, { chunkBytes: 4096 })).toEqual({ sha256: expected, size });
    },
  );

  it("reports progress up to the full size", async () => {
    const path = file("progress", randomBytes(10_000));
    const seen: Array<[number, number]> = [];
    await sha256File(path, { chunkBytes: 4096, onProgress: (done, total) => seen.push([done, total]) });
    expect(seen).toEqual([
      [4096, 10_000],
      [8192, 10_000],
      [10_000, 10_000],
    ]);
  });

  // Both ways of reading a large file: through libuv's pool, and synchronously on this thread.
  const readers = [
    ["read on libuv's pool", {}],
    ["read on this thread", { readOnThisThread: true }],
  ] as const;

  it.each(readers)("matches a one-shot hash across chunk and slice boundaries (%s)", async (_, reader) => {
    // 4 MiB is one slice of this-thread reading; sizes around it and around a 1 MiB chunk.
    for (const size of [(1 << 20) + 1, (4 << 20) - 1, 4 << 20, (4 << 20) + 1, 9 << 20]) {
      const content = randomBytes(size);
      const path = file(`sliced-${size}`, content);
      const expected = createHash("sha256").update(content).digest("hex");
      expect(await sha256File(path, reader)).toEqual({ sha256: expected, size });
    }
  });

  it("gives the event loop a turn while it reads a large file on this thread", async () => {
    const path = file("turns", randomBytes(12 << 20));
    let turns = 0;
    const count = () => {
      turns++;
      if (!done) setImmediate(count);
    };
    let done = false;
    setImmediate(count);
    const hashing = sha256File(path, { readOnThisThread: true });
    await hashing;
    done = true;
    // 12 MiB is three 4 MiB slices: at least two turns came between them.
    expect(turns).toBeGreaterThanOrEqual(2);
  });

  it.each(readers)("refuses a file that grows while it is hashed (%s)", async (_, reader) => {
    const path = file(`grows-${Object.keys(reader).length}`, randomBytes(3 * 4096));
    let appended = false;
    const error = await expectCode(
      sha256File(path, {
        ...reader,
        chunkBytes: 4096,
        onProgress: () => {
          if (!appended) appendFileSync(path, randomBytes(4096));
          appended = true;
        },
      }),
      "IC_FILE_CHANGED",
    );
    expect(error.message).toContain("grew while it was being hashed");
  });

  it.each(readers)("refuses a file that shrinks while it is hashed (%s)", async (_, reader) => {
    const path = file(`shrinks-${Object.keys(reader).length}`, randomBytes(4 * 4096));
    const error = await expectCode(
      sha256File(path, { ...reader, chunkBytes: 4096, onProgress: () => truncateSync(path, 4096) }),
      "IC_FILE_CHANGED",
    );
    expect(error.message).toContain("shrank");
  });

  it.each(readers)(
    "refuses a file rewritten in place, same size, while it is hashed (%s)",
    async (_, reader) => {
      const path = file(`rewritten-${Object.keys(reader).length}`, randomBytes(4 * 4096));
      const past = new Date(Date.now() - 60_000);
      utimesSync(path, past, past);
      let rewritten = false;
      const error = await expectCode(
        sha256File(path, {
          ...reader,
          chunkBytes: 4096,
          onProgress: () => {
            if (rewritten) return;
            rewritten = true;
            // Overwrite the first chunk, already hashed: only the modification time can tell.
            const fd = openSync(path, "r+");
            writeSync(fd, randomBytes(4096), 0, 4096, 0);
            closeSync(fd);
          },
        }),
        "IC_FILE_CHANGED",
      );
      expect(error.message).toContain("was modified");
    },
  );

  it("keeps memory flat: hashing 512 MiB costs no more memory than hashing nothing", () => {
    const path = join(work, "sparse-512m");
    writeFileSync(path, "");
    truncateSync(path, 512 * 1024 * 1024);
    const measure = (target: string | null, options: { readOnThisThread?: boolean } = {}) => {
      // A child process runs the built package (npm test builds first); it cannot load TypeScript.
      const entry = new URL("../dist/index.js", import.meta.url).href;
      const script = `
        import { sha256File } from ${JSON.stringify(entry)};
        const target = ${JSON.stringify(target)};
        const digest = target === null ? null : await sha256File(target, ${JSON.stringify(options)});
        process.stdout.write(JSON.stringify({ digest, maxRssKb: process.resourceUsage().maxRSS }));`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
      });
      expect(child.stderr).toBe("");
      return JSON.parse(child.stdout) as { digest: { size: number } | null; maxRssKb: number };
    };
    const idle = measure(null);
    for (const options of [{}, { readOnThisThread: true }]) {
      const hashing = measure(path, options);
      expect(hashing.digest?.size).toBe(512 * 1024 * 1024);
      // Two 1 MiB buffers plus noise; reading the file whole would add 512 MiB.
      expect(hashing.maxRssKb - idle.maxRssKb).toBeLessThan(32 * 1024);
    }
  });

  it("says a missing file is missing", async () => {
    await expectCode(sha256File(join(work, "does-not-exist")), "IC_FILE_MISSING");
  });

  it("refuses a directory", async () => {
    const path = join(work, "a-directory");
    mkdirSync(path);
    await expectCode(sha256File(path), "IC_FILE_NOT_REGULAR");
  });

  it.skipIf(process.platform === "win32")("refuses a FIFO without blocking on it", async () => {
    const path = join(work, "fifo");
    expect(spawnSync("mkfifo", [path]).status).toBe(0);
    const error = await expectCode(sha256File(path), "IC_FILE_NOT_REGULAR");
    expect(error.message).toContain("FIFO");
  });

  it.skipIf(process.platform === "win32")("reports a file it cannot open as a read error", async () => {
    symlinkSync(join(work, "loop-b"), join(work, "loop-a"));
    symlinkSync(join(work, "loop-a"), join(work, "loop-b"));
    const error = await expectCode(sha256File(join(work, "loop-a")), "IC_FILE_READ");
    expect(error.message).toContain("ELOOP");
  });

  it.runIf(process.platform === "linux")("reports a read that fails after open as a read error", async () => {
    // /proc/self/mem opens as a regular file but reading address 0 fails with EIO.
    await expectCode(sha256File("/proc/self/mem"), "IC_FILE_READ");
  });
});
