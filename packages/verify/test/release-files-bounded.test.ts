import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_CHECKSUMS_BYTES, readNamed, readReleaseFiles, type VerifyErrorCode } from "@ironclaw/verify";
import { afterEach, describe, expect, it } from "vitest";

// Self-made: these attack the reads themselves, so any bytes would do.
const SUMS = `${"a".repeat(64)}  ironclaw_1.2.3.intoto.jsonl\n`;
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function release(): string {
  const dir = mkdtempSync(join(tmpdir(), "ironclaw-bounded-"));
  dirs.push(dir);
  return dir;
}

const fifo = (path: string) => expect(spawnSync("mkfifo", [path]).status).toBe(0);

async function refused(read: Promise<unknown>, code: VerifyErrorCode): Promise<string> {
  const started = Date.now();
  const error = (await read.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; message: string } | undefined;
  expect(error?.code).toBe(code);
  // A FIFO with no writer must not be waited on.
  expect(Date.now() - started).toBeLessThan(5_000);
  return error?.message ?? "";
}

describe("ironclaw verify reads SHA256SUMS, its bundle and the attestations as bounded regular files", () => {
  it("refuses a FIFO for each of the three without blocking", async () => {
    for (const name of ["SHA256SUMS", "SHA256SUMS.sigstore.json", "ironclaw_1.2.3.intoto.jsonl"]) {
      const dir = release();
      if (name !== "SHA256SUMS") writeFileSync(join(dir, "SHA256SUMS"), SUMS);
      fifo(join(dir, name));
      const message = await refused(readReleaseFiles(dir), "IC_FILE_NOT_REGULAR");
      expect(message).toContain("a FIFO");
    }
  });

  it("refuses a symlink to /dev/zero for each of the three without reading it", async () => {
    for (const name of ["SHA256SUMS", "SHA256SUMS.sigstore.json", "ironclaw_1.2.3.intoto.jsonl"]) {
      const dir = release();
      if (name !== "SHA256SUMS") writeFileSync(join(dir, "SHA256SUMS"), SUMS);
      symlinkSync("/dev/zero", join(dir, name));
      const message = await refused(readReleaseFiles(dir), "IC_FILE_NOT_REGULAR");
      expect(message).toContain("a character device");
    }
  });

  it("refuses files over the caps by their own codes, before reading them", async () => {
    const big = release();
    writeFileSync(join(big, "SHA256SUMS"), "");
    truncateSync(join(big, "SHA256SUMS"), MAX_CHECKSUMS_BYTES + 1);
    await refused(readReleaseFiles(big), "IC_CHECKSUMS_TOO_LARGE");
    const bundle = release();
    writeFileSync(join(bundle, "SHA256SUMS"), SUMS);
    writeFileSync(join(bundle, "SHA256SUMS.sigstore.json"), "");
    truncateSync(join(bundle, "SHA256SUMS.sigstore.json"), 16 * 1024 * 1024 + 1);
    await refused(readReleaseFiles(bundle), "IC_BUNDLE_TOO_LARGE");
  });

  it("reads regular files whole, exactly at the cap, and says a directory is one", async () => {
    const dir = release();
    writeFileSync(join(dir, "exact"), Buffer.alloc(1000, 7));
    expect((await readNamed(join(dir, "exact"), "x", undefined, { maxBytes: 1000 })).length).toBe(1000);
    await refused(readNamed(join(dir, "exact"), "x", undefined, { maxBytes: 999 }), "IC_FILE_TOO_LARGE");
    mkdirSync(join(dir, "d"));
    await refused(readNamed(join(dir, "d"), "x"), "IC_FILE_NOT_REGULAR");
    await refused(readNamed(join(dir, "missing"), "x", "look elsewhere"), "IC_FILE_MISSING");
    const plain = release();
    writeFileSync(join(plain, "SHA256SUMS"), SUMS);
    const files = await readReleaseFiles(plain);
    expect(files.checksums.toString()).toBe(SUMS);
    expect(files.signatureBundle).toBeUndefined();
  });
});
