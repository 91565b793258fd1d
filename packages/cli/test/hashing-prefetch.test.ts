import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { HASHING_WORKER_BOOTSTRAP } from "@ironclaw/verify";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { waitingWriter } from "../../../test/support/fifo-writer.js";
import {
  HashingPrefetch,
  verifyRequestFromArgv,
  WORKER_BOOTSTRAP,
  WorkersAhead,
} from "../src/hashing-prefetch.js";
import { temporaryDirectory } from "./helpers.js";

describe("verifyRequestFromArgv", () => {
  it.each([
    [["verify"], { paths: [] }],
    [["verify", "--dir", "d"], { paths: [], dir: "d" }],
    [["verify", "--dir=d", "a", "b"], { paths: ["a", "b"], dir: "d" }],
    [
      [
        "verify",
        "a",
        "--repo",
        "o/r",
        "--tag",
        "v1.0.0",
        "--trusted-root=t.json",
        "--json",
        "--checksums-only",
      ],
      { paths: ["a"] },
    ],
    [["verify", "--signer-workflow", "o/r/w.yml", "--", "--dir", "-x"], { paths: ["--dir", "-x"] }],
  ])("reads %j", (argv, request) => {
    expect(verifyRequestFromArgv(argv)).toEqual(request);
  });

  it.each([
    [[]],
    [["verify-binary", "x"]],
    [["checksums", "verify"]],
    [["--json", "verify"]],
    [["verify", "--help"]],
    [["verify", "--unknown"]],
    [["verify", "--dir"]],
    [["verify", "--dir", "a", "--dir", "b"]],
  ])("leaves %j to the command", (argv) => {
    expect(verifyRequestFromArgv(argv)).toBeUndefined();
  });
});

describe("HashingPrefetch", () => {
  let dir: { path: string; remove: () => void };
  beforeAll(() => {
    dir = temporaryDirectory("ironclaw-prefetch-");
    writeFileSync(join(dir.path, "a.txt"), "a\n");
    writeFileSync(
      join(dir.path, "SHA256SUMS"),
      "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7  a.txt\n",
    );
  });
  afterAll(() => dir.remove());

  it("hands its hashing to a command that asks for the same files, once", async () => {
    const prefetch = HashingPrefetch.start(["verify", "--dir", dir.path], "/");
    expect(prefetch).toBeDefined();
    const hashing = await prefetch?.take({ paths: [], dir: dir.path });
    expect(hashing?.names).toEqual(["a.txt"]);
    expect(await hashing?.digests).toEqual([
      { sha256: "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7", size: 2 },
    ]);
    expect(await prefetch?.take({ paths: [], dir: dir.path })).toBeUndefined();
    prefetch?.cancel();
  });

  it("stops its hashing when the command asks for other files", async () => {
    const prefetch = HashingPrefetch.start(["verify", "--dir", dir.path], "/");
    if (prefetch === undefined) throw new Error("expected a prefetch");
    const cancel = vi.spyOn(prefetch, "cancel");
    expect(await prefetch.take({ paths: ["a.txt"] })).toBeUndefined();
    expect(await prefetch.take({ paths: [], dir: join(dir.path, ".") })).toBeUndefined();
    expect(cancel).toHaveBeenCalled();
  });

  it("reads nothing outside the release directory: a SHA256SUMS naming ../ or / hashes nothing", async () => {
    for (const name of ["../a.txt", "/etc/hostname"]) {
      const escaping = temporaryDirectory("ironclaw-prefetch-escape-");
      writeFileSync(join(escaping.path, "SHA256SUMS"), `${"0".repeat(64)}  ${name}\n`);
      const prefetch = HashingPrefetch.start(["verify", "--dir", escaping.path], "/");
      expect(await prefetch?.take({ paths: [], dir: escaping.path })).toBeUndefined();
      prefetch?.cancel();
      escaping.remove();
    }
  });

  it("never opens a SHA256SUMS that is no regular file (opening a device acts)", async () => {
    const release = temporaryDirectory("ironclaw-prefetch-fifo-");
    const sums = join(release.path, "SHA256SUMS");
    expect(spawnSync("mkfifo", [sums]).status).toBe(0);
    const writer = await waitingWriter(sums);
    const prefetch = HashingPrefetch.start(["verify", "--dir", release.path], "/");
    expect(await prefetch?.take({ paths: [], dir: release.path })).toBeUndefined();
    prefetch?.cancel();
    expect(await writer.opened()).toBe(false);
    await writer.release();
    release.remove();
  });

  it("starts nothing for another command, and hashes nothing when SHA256SUMS cannot be read", async () => {
    expect(HashingPrefetch.start(["checksums", "verify"], dir.path)).toBeUndefined();
    for (const releaseDir of [join(dir.path, "absent"), "/dev"]) {
      const prefetch = HashingPrefetch.start(["verify", "--dir", releaseDir], "/");
      expect(await prefetch?.take({ paths: [], dir: releaseDir })).toBeUndefined();
      prefetch?.cancel();
    }
  });
});

describe("WorkersAhead", () => {
  it("starts its workers as @ironclaw/verify's hashing expects them started", () => {
    expect(WORKER_BOOTSTRAP).toBe(HASHING_WORKER_BOOTSTRAP);
  });

  it.runIf(process.platform === "linux")(
    "starts one worker per CPU besides this thread, four at most, and stops those not taken",
    async () => {
      // A worker is an OS thread of this process, gone when it exits.
      const threads = () => readdirSync("/proc/self/task").length;
      // Once the workers of the tests above have exited.
      let before = threads();
      for (let unchanged = 0; unchanged < 10; ) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        unchanged = threads() === before ? unchanged + 1 : 0;
        before = threads();
      }
      const ahead = new WorkersAhead();
      const started = Math.min(4, availableParallelism() - 1);
      expect(ahead.size).toBe(started);
      expect(threads() - before).toBe(started);
      const two = new WorkersAhead(2);
      const taken = two.take(1);
      expect([taken.length, two.size]).toEqual([1, 0]);
      ahead.close();
      expect(ahead.size).toBe(0);
      for (const worker of taken) await worker.terminate();
      const deadline = Date.now() + 10_000;
      while (threads() > before && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(threads()).toBe(before);
    },
  );
});
