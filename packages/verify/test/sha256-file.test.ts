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

  it("refuses a file that grows while it is hashed", async () => {
    const path = file("grows", randomBytes(3 * 4096));
    let appended = false;
    const error = await expectCode(
      sha256File(path, {
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

  it("refuses a file that shrinks while it is hashed", async () => {
    const path = file("shrinks", randomBytes(4 * 4096));
    const error = await expectCode(
      sha256File(path, { chunkBytes: 4096, onProgress: () => truncateSync(path, 4096) }),
      "IC_FILE_CHANGED",
    );
    expect(error.message).toContain("shrank");
  });

  it("refuses a file rewritten in place, same size, while it is hashed", async () => {
    const path = file("rewritten", randomBytes(4 * 4096));
    const past = new Date(Date.now() - 60_000);
    utimesSync(path, past, past);
    let rewritten = false;
    const error = await expectCode(
      sha256File(path, {
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
  });

  it("keeps memory flat: hashing 512 MiB costs no more memory than hashing nothing", () => {
    const path = join(work, "sparse-512m");
    writeFileSync(path, "");
    truncateSync(path, 512 * 1024 * 1024);
    const measure = (target: string | null) => {
      // A child process runs the built package (npm test builds first); it cannot load TypeScript.
      const entry = new URL("../dist/index.js", import.meta.url).href;
      const script = `
        import { sha256File } from ${JSON.stringify(entry)};
        const target = ${JSON.stringify(target)};
        const digest = target === null ? null : await sha256File(target);
        process.stdout.write(JSON.stringify({ digest, maxRssKb: process.resourceUsage().maxRSS }));`;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        encoding: "utf8",
      });
      expect(child.stderr).toBe("");
      return JSON.parse(child.stdout) as { digest: { size: number } | null; maxRssKb: number };
    };
    const idle = measure(null);
    const hashing = measure(path);
    expect(hashing.digest?.size).toBe(512 * 1024 * 1024);
    // Two 1 MiB buffers plus noise; reading the file whole would add 512 MiB.
    expect(hashing.maxRssKb - idle.maxRssKb).toBeLessThan(32 * 1024);
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
