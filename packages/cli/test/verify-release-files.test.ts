import { spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

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
});
