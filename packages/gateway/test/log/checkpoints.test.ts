import { generateKeyPairSync } from "node:crypto";
import { appendFile, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type Checkpoint,
  checkpointLine,
  EventLog,
  hostKeyFromPrivatePem,
  signCheckpoint,
  verifyCheckpoint,
  verifyEventLog,
} from "../../src/log/index.js";
import { expectRefused, readLines, stateDir, writeLines, writeLog } from "./helpers.js";

function otherKey() {
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  return hostKeyFromPrivatePem(pem);
}

/** Changes one base64 character of the signature; it still decodes to 64 bytes. */
function badSignature(checkpoint: Checkpoint): Checkpoint {
  const { signature } = checkpoint;
  return {
    ...checkpoint,
    signature: `${signature.slice(0, 10)}${signature[10] === "A" ? "B" : "A"}${signature.slice(11)}`,
  };
}

async function storedCheckpoints(dir: string): Promise<Checkpoint[]> {
  return (await readLines(dir, "checkpoints.jsonl")).map((line) => JSON.parse(line) as Checkpoint);
}

async function storeCheckpoints(dir: string, checkpoints: readonly Checkpoint[]): Promise<void> {
  await writeLines(
    dir,
    checkpoints.map((checkpoint) => checkpointLine(checkpoint).slice(0, -1)),
    "checkpoints.jsonl",
  );
}

describe("checkpoints", () => {
  it("a stored checkpoint with a bad signature is refused, naming its record", async () => {
    const dir = await stateDir();
    await writeLog(dir, 10, { checkpointEvery: 3 });
    const stored = await storedCheckpoints(dir);
    expect(stored.map((checkpoint) => checkpoint.seq)).toEqual([3, 6, 9, 10]);
    await storeCheckpoints(
      dir,
      stored.map((checkpoint) => (checkpoint.seq === 6 ? badSignature(checkpoint) : checkpoint)),
    );
    await expectRefused(dir, "IC_AUDIT_CHECKPOINT", 6);
  });

  it("stored checkpoints signed by another key are refused", async () => {
    const dir = await stateDir();
    await writeLog(dir, 10, { checkpointEvery: 3 });
    const intruder = otherKey();
    const stored = await storedCheckpoints(dir);
    await storeCheckpoints(
      dir,
      stored.map((checkpoint) => signCheckpoint(intruder, checkpoint, checkpoint.time)),
    );
    await expectRefused(dir, "IC_AUDIT_CHECKPOINT", 3);
  });

  it("a stored checkpoint line that is not canonical JSON is refused", async () => {
    const dir = await stateDir();
    await writeLog(dir, 4, { checkpointEvery: 2 });
    const lines = await readLines(dir, "checkpoints.jsonl");
    lines[1] = ` ${lines[1]}`;
    await writeLines(dir, lines, "checkpoints.jsonl");
    await expectRefused(dir, "IC_AUDIT_CHECKPOINT", 4);
  });

  it("a kept checkpoint with a bad signature or from another key is refused", async () => {
    const dir = await stateDir();
    const { kept } = await writeLog(dir, 5);
    const good = kept[2] as Checkpoint;
    expect(await verifyEventLog({ dir, keptCheckpoints: [good] })).toMatchObject({
      ok: true,
      checkpointsChecked: 2,
    });
    expect((await verifyEventLog({ dir, keptCheckpoints: [badSignature(good)] })).failure).toMatchObject({
      code: "IC_AUDIT_CHECKPOINT",
      record: 3,
    });
    const foreign = signCheckpoint(otherKey(), good, good.time);
    const refused = await verifyEventLog({ dir, keptCheckpoints: [foreign] });
    expect(refused.failure).toMatchObject({ code: "IC_AUDIT_CHECKPOINT", record: 3 });
    expect(refused.failure?.message).toContain("found key");
  });

  it("verifyCheckpoint checks shape, key and signature", async () => {
    const dir = await stateDir();
    const { kept } = await writeLog(dir, 1);
    const checkpoint = kept[0] as Checkpoint;
    const pem = await readFile(join(dir, "host-key.pub.pem"), "utf8");
    expect(verifyCheckpoint(checkpoint, pem)).toEqual(checkpoint);
    expect(() => verifyCheckpoint(badSignature(checkpoint), pem)).toThrow(/does not verify/);
    expect(() => verifyCheckpoint(checkpoint, otherKey().publicKeyPem)).toThrow(/signed by the host key/);
    expect(() => verifyCheckpoint({ ...checkpoint, extra: 1 }, pem)).toThrow(/exactly the keys/);
    expect(() => verifyCheckpoint({ ...checkpoint, seq: 1.5 }, pem)).toThrow(/integer seq/);
    expect(() => verifyCheckpoint({ ...checkpoint, seq: 2 }, pem)).toThrow(/does not verify/);
  });

  it("verify trusts the public key it is given over the one in the directory", async () => {
    const dir = await stateDir();
    await writeLog(dir, 3);
    const refused = await verifyEventLog({ dir, publicKeyPem: otherKey().publicKeyPem });
    expect(refused.failure).toMatchObject({ code: "IC_AUDIT_CHECKPOINT", record: 3 });
    const own = await readFile(join(dir, "host-key.pub.pem"), "utf8");
    await rm(join(dir, "host-key.pub.pem"));
    expect(await verifyEventLog({ dir, publicKeyPem: own })).toMatchObject({
      ok: true,
      checkpointsChecked: 1,
    });
    // With no key anywhere, checkpoints cannot be trusted.
    expect((await verifyEventLog({ dir })).failure).toMatchObject({ code: "IC_AUDIT_KEY", record: 0 });
    expect((await verifyEventLog({ dir, publicKeyPem: "not a key" })).failure).toMatchObject({
      code: "IC_AUDIT_KEY",
    });
  });

  it("open refuses a host key that is not the one that signed the stored checkpoints", async () => {
    const dir = await stateDir();
    await writeLog(dir, 3);
    await rm(join(dir, "host-key.pem"));
    await rm(join(dir, "host-key.pub.pem"));
    // open makes a new key, which did not sign checkpoint 3.
    const error = await EventLog.open({ dir }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: "IC_AUDIT_CHECKPOINT", record: 3 });
  });
});

describe("verifyEventLog", () => {
  it("reports a missing log as a failure, never a pass", async () => {
    const dir = await stateDir();
    const verification = await verifyEventLog({ dir });
    expect(verification).toMatchObject({
      ok: false,
      records: 0,
      failure: { code: "IC_STATE_INVALID", record: 0 },
    });
    expect(verification.failure?.message).toContain("events.jsonl");
  });

  it("passes an empty log and counts every checkpoint it checked", async () => {
    const dir = await stateDir();
    await writeLog(dir, 0);
    expect(await verifyEventLog({ dir })).toEqual({
      ok: true,
      records: 0,
      head: { seq: 0, hash: "0".repeat(64) },
      checkpointsChecked: 0,
    });
    const other = await stateDir();
    const { records, kept } = await writeLog(other, 6, { checkpointEvery: 2 });
    expect(await verifyEventLog({ dir: other, keptCheckpoints: kept })).toEqual({
      ok: true,
      records: 6,
      head: { seq: 6, hash: records[5]?.hash },
      checkpointsChecked: 3 + 6,
    });
  });

  it("ignores a torn last checkpoint line (a crash mid-write), and open removes it", async () => {
    const dir = await stateDir();
    await writeLog(dir, 4, { checkpointEvery: 2 });
    const path = join(dir, "checkpoints.jsonl");
    const clean = await readFile(path, "utf8");
    await appendFile(path, '{"hash":"ab');
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, checkpointsChecked: 2 });
    const { log } = await EventLog.open({ dir });
    await log.close();
    expect(await readFile(path, "utf8")).toBe(clean);
  });

  it("a kept checkpoint exposes records cut off the end even when the stored checkpoints were cut too", async () => {
    const dir = await stateDir();
    const { kept } = await writeLog(dir, 10, { checkpointEvery: 3 });
    await writeLines(dir, (await readLines(dir)).slice(0, 7));
    const stored = await storedCheckpoints(dir);
    await storeCheckpoints(
      dir,
      stored.filter((checkpoint) => checkpoint.seq <= 7),
    );
    // The stored checks cannot see the cut, but nothing signed record 7 (its commit's seal said 10).
    expect(await verifyEventLog({ dir })).toMatchObject({
      ok: false,
      records: 7,
      failure: { code: "IC_AUDIT_UNSIGNED", record: 7 },
    });
    expect((await verifyEventLog({ dir, keptCheckpoints: [kept[9] as Checkpoint] })).failure).toMatchObject({
      code: "IC_AUDIT_TRUNCATED",
      record: 8,
    });
  });
});
