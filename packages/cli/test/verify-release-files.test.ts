import { spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, runCli, temporaryDirectory } from "./helpers.js";

// Self-made directories: the attack is on how `verify` opens the release's own files.
const work = temporaryDirectory("ironclaw-verify-files-");
afterAll(() => work.remove());

describe("ironclaw verify on a directory whose release files are not regular files", () => {
  it.each([
    ["SHA256SUMS is a FIFO", "SHA256SUMS", "fifo"],
    ["SHA256SUMS.sigstore.json links to /dev/zero", "SHA256SUMS.sigstore.json", "zero"],
    ["the .intoto.jsonl is a FIFO", "ironclaw_1.2.3.intoto.jsonl", "fifo"],
  ])("exits 2 at once when %s", async (_what, name, kind) => {
    const dir = join(work.path, `${kind}-${name}`);
    spawnSync("mkdir", ["-p", dir]);
    if (name !== "SHA256SUMS")
      writeFileSync(join(dir, "SHA256SUMS"), `${"a".repeat(64)}  ironclaw_1.2.3.intoto.jsonl\n`);
    if (kind === "fifo") expect(spawnSync("mkfifo", [join(dir, name)]).status).toBe(0);
    else symlinkSync("/dev/zero", join(dir, name));
    const started = Date.now();
    const result = await runCli(["verify", "--dir", dir], { cwd: work.path, env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_FILE_NOT_REGULAR");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  // The command line starts hashing workers before it reads SHA256SUMS; when there is nothing to
  // hash they must be stopped, or the process would never exit.
  it.each([
    ["SHA256SUMS is missing", undefined, 3],
    ["SHA256SUMS is a FIFO", "fifo", 2],
    ["SHA256SUMS links to /dev/zero", "zero", 2],
    ["SHA256SUMS names a file outside the release", "escape", 2],
  ])("as a process, exits at once when %s", (what, kind, code) => {
    const dir = join(work.path, `spawned-${what.replace(/\W+/g, "-")}`);
    spawnSync("mkdir", ["-p", dir]);
    const sums = join(dir, "SHA256SUMS");
    if (kind === "fifo") expect(spawnSync("mkfifo", [sums]).status).toBe(0);
    if (kind === "zero") symlinkSync("/dev/zero", sums);
    if (kind === "escape") writeFileSync(sums, `${"a".repeat(64)}  ../outside.tar.gz\n`);
    const started = Date.now();
    const child = spawnSync(process.execPath, [BIN, "verify", "--dir", dir], {
      cwd: work.path,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
      timeout: 20_000,
    });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(code);
    expect(child.stderr).toMatch(/ironclaw: error IC_[A-Z_]+: /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
