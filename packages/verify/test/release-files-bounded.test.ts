import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  MAX_CHECKSUMS_BYTES,
  readChecksumsFile,
  readNamed,
  readReleaseFiles,
  type VerifyErrorCode,
} from "@ironclaw/verify";
import { afterEach, describe, expect, it } from "vitest";
import { waitingWriter } from "../../../test/support/fifo-writer.js";

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

  it("never opens a FIFO among the three (opening a device acts): its waiting writer is not let through", async () => {
    for (const name of ["SHA256SUMS", "SHA256SUMS.sigstore.json", "ironclaw_1.2.3.intoto.jsonl"]) {
      const dir = release();
      if (name !== "SHA256SUMS") writeFileSync(join(dir, "SHA256SUMS"), SUMS);
      const path = join(dir, name);
      fifo(path);
      const writer = await waitingWriter(path);
      await refused(readReleaseFiles(dir), "IC_FILE_NOT_REGULAR");
      expect(await writer.opened(), name).toBe(false);
      await writer.release();
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

  it("reads a file past the synchronous-read size on the pool, whole and byte for byte", async () => {
    const dir = release();
    // 8 MiB is where reads move off this thread; this one is larger and not a multiple of a read.
    const bytes = Buffer.alloc(9 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i += 4093) bytes[i] = i % 251;
    writeFileSync(join(dir, "large"), bytes);
    expect((await readNamed(join(dir, "large"), "x")).equals(bytes)).toBe(true);
    await refused(
      readNamed(join(dir, "large"), "x", undefined, { maxBytes: bytes.length - 1 }),
      "IC_FILE_TOO_LARGE",
    );
  });
});

describe("checksums verify reads its SHA256SUMS the same bounded way", () => {
  it("refuses a FIFO, a symlink to /dev/zero and an oversized file, without blocking", async () => {
    const dir = release();
    fifo(join(dir, "fifo"));
    expect(await refused(readChecksumsFile(join(dir, "fifo")), "IC_FILE_NOT_REGULAR")).toContain("a FIFO");
    symlinkSync("/dev/zero", join(dir, "zero"));
    expect(await refused(readChecksumsFile(join(dir, "zero")), "IC_FILE_NOT_REGULAR")).toContain(
      "a character device",
    );
    writeFileSync(join(dir, "big"), "");
    truncateSync(join(dir, "big"), MAX_CHECKSUMS_BYTES + 1);
    await refused(readChecksumsFile(join(dir, "big")), "IC_CHECKSUMS_TOO_LARGE");
    expect(await refused(readChecksumsFile(join(dir, "absent")), "IC_FILE_MISSING")).toContain(
      "point --file or --dir at it",
    );
    writeFileSync(join(dir, "SHA256SUMS"), SUMS);
    expect((await readChecksumsFile(join(dir, "SHA256SUMS"))).entries.length).toBe(1);
  });
});
