import { execFileSync } from "node:child_process";
import { chmod, chown, mkdtemp, open, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, verifyEventLog } from "../../src/log/index.js";
import { rewriteWithHostKey, stateDir, writeLog } from "./helpers.js";

/**
 * `--witness DIR`: checkpoints are also appended to a file the gateway's user cannot rewrite. Made
 * here as an administrator would: owned by nobody (uid 65534), mode 622, append-only (chattr +a).
 * These tests run as root, which chattr needs.
 */
const NOBODY = 65534;
const witnesses: string[] = [];
afterEach(async () => {
  for (const dir of witnesses.splice(0)) {
    execFileSync("chattr", ["-a", join(dir, "checkpoints.jsonl")], { stdio: "ignore" });
    await rm(dir, { recursive: true, force: true });
  }
});

async function witnessDir(options: { appendOnly?: boolean; owner?: number } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-witness-"));
  witnesses.push(dir);
  const file = join(dir, "checkpoints.jsonl");
  await writeFile(file, "");
  await chown(file, options.owner ?? NOBODY, options.owner ?? NOBODY);
  await chmod(file, 0o622);
  if (options.appendOnly !== false) execFileSync("chattr", ["+a", file]);
  return dir;
}

describe("a witness", () => {
  it("keeps every checkpoint where the gateway cannot rewrite it, and exposes a re-signed history", async () => {
    const dir = await stateDir();
    const witness = await witnessDir();
    await writeLog(dir, 10, { checkpointEvery: 3, witness });
    const stored = await readFile(join(dir, "checkpoints.jsonl"), "utf8");
    expect(await readFile(join(witness, "checkpoints.jsonl"), "utf8")).toBe(stored);
    // Not even this process (root) can open it to rewrite it.
    await expect(open(join(witness, "checkpoints.jsonl"), "r+")).rejects.toMatchObject({ code: "EPERM" });

    await rewriteWithHostKey(dir);
    // Everything in the state directory agrees with the forgery...
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, records: 10 });
    // ...but the witness does not.
    expect((await verifyEventLog({ dir, witness })).failure).toMatchObject({
      code: "IC_AUDIT_CHECKPOINT",
      record: 6,
    });
    await expect(EventLog.open({ dir, witness })).rejects.toMatchObject({ code: "IC_AUDIT_CHECKPOINT" });
  });

  it.each([
    ["owned by the gateway's own user", { owner: process.getuid?.() ?? 0 }, "own user owns"],
    ["not append-only", { appendOnly: false }, "not append-only"],
  ])("is refused when %s", async (_what, options, message) => {
    const dir = await stateDir();
    const witness = await witnessDir(options);
    const error = await EventLog.open({ dir, witness }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "IC_STATE_INVALID" });
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain("chattr +a");
  });

  it("is refused when missing, or a symbolic link", async () => {
    const dir = await stateDir();
    const empty = await mkdtemp(join(tmpdir(), "ironclaw-witness-"));
    await expect(EventLog.open({ dir, witness: empty })).rejects.toMatchObject({ code: "IC_STATE_INVALID" });
    const real = await witnessDir();
    await symlink(join(real, "checkpoints.jsonl"), join(empty, "checkpoints.jsonl"));
    const error = await EventLog.open({ dir, witness: empty }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("symbolic link");
    await rm(empty, { recursive: true, force: true });
  });
});
