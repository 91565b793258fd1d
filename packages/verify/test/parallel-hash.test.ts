import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256File, sha256FilesInParallel, VerifyError } from "@ironclaw/verify";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "ironclaw-parallel-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

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

  it("answers an empty list without starting workers", async () => {
    expect(await sha256FilesInParallel([])).toEqual([]);
  });
});
