import { createHash, generateKeyPairSync } from "node:crypto";
import { chmod, type FileHandle, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  EventLog,
  type LogRecord,
  publicKeyFromPem,
  verifyCheckpoint,
  verifyEventLog,
  ZERO_HASH,
} from "../../src/log/index.js";
import { readLines, stateDir, tickingClock, writeLog } from "./helpers.js";

describe("EventLog", () => {
  it("chains records and round-trips them through a reopen", async () => {
    const dir = await stateDir();
    const { log, recovery } = await EventLog.open({ dir, now: tickingClock() });
    expect(recovery).toEqual({ records: 0, truncatedBytes: 0 });
    expect(log.head).toEqual({ seq: 0, hash: ZERO_HASH });
    const appended: LogRecord[] = [];
    for (const event of [
      { type: "a", x: 1 },
      { type: "b", nested: { hash: "not the record's" } },
      { type: "c" },
    ]) {
      const { record, durable } = log.append(event);
      await durable;
      appended.push(record);
    }
    expect(appended.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(appended.map((record) => record.time)).toEqual([
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T00:00:01.000Z",
      "2030-01-01T00:00:02.000Z",
    ]);
    expect(appended.map((record) => record.prev)).toEqual([ZERO_HASH, appended[0]?.hash, appended[1]?.hash]);
    for (const record of appended) {
      const { hash, ...body } = record;
      expect(hash).toBe(createHash("sha256").update(canonicalJson(body)).digest("hex"));
    }
    expect(log.head).toEqual({ seq: 3, hash: appended[2]?.hash });
    expect(await readLines(dir)).toEqual(appended.map((record) => canonicalJson(record)));
    await log.close();

    const folded: LogRecord[] = [];
    const reopened = await EventLog.open({ dir, onRecord: (record) => folded.push(record) });
    expect(reopened.recovery).toEqual({ records: 3, truncatedBytes: 0 });
    expect(folded).toEqual(appended);
    expect(reopened.log.head).toEqual({ seq: 3, hash: appended[2]?.hash });
    const { record, durable } = reopened.log.append({ type: "d" });
    await durable;
    expect(record).toMatchObject({ seq: 4, prev: appended[2]?.hash });
    await reopened.log.close();
    expect(await verifyEventLog({ dir })).toMatchObject({
      ok: true,
      records: 4,
      head: { seq: 4, hash: record.hash },
    });
  });

  it("refuses reserved keys and values canonical JSON cannot hold, without using up a seq", async () => {
    const dir = await stateDir();
    const { log } = await EventLog.open({ dir });
    for (const key of ["seq", "time", "prev", "hash"]) {
      expect(() => log.append({ type: "x", [key]: 1 })).toThrow(TypeError);
    }
    expect(() => log.append({ type: "" })).toThrow(TypeError);
    expect(() => log.append({ type: "x", ratio: 0.5 })).toThrow(TypeError);
    expect(log.head.seq).toBe(0);
    await log.append({ type: "x" }).durable;
    expect(log.head.seq).toBe(1);
    await log.close();
  });

  it("reads durable records back from disk by seq", async () => {
    const dir = await stateDir();
    const { records } = await writeLog(dir, 25);
    const { log } = await EventLog.open({ dir });
    expect(await log.read(0, 100)).toEqual(records);
    expect(await log.read(10, 5)).toEqual(records.slice(10, 15));
    expect(await log.read(24, 5)).toEqual(records.slice(24));
    expect(await log.read(25, 5)).toEqual([]);
    expect(await log.read(3, 0)).toEqual([]);
    await expect(log.read(-1, 1)).rejects.toThrow(RangeError);
    const { record, durable } = log.append({ type: "later" });
    await durable;
    expect(await log.read(25, 5)).toEqual([record]);
    await log.close();
  });

  it("group-commits concurrent appends and acknowledges each only once its bytes are synced", async () => {
    const dir = await stateDir();
    let syncedBytes = 0;
    const fileHandleFactory = async (path: string, flags: "a"): Promise<FileHandle> => {
      const handle = await open(path, flags, 0o600);
      if (path.endsWith("events.jsonl")) {
        const datasync = handle.datasync.bind(handle);
        handle.datasync = async () => {
          const size = (await handle.stat()).size;
          await datasync();
          syncedBytes = size;
        };
      }
      return handle;
    };
    const { log } = await EventLog.open({ dir, fileHandleFactory });
    const path = join(dir, "events.jsonl");
    let end = 0;
    const checks = Array.from({ length: 500 }, (_, i) => {
      const { record, durable } = log.append({ type: "burst", i });
      const line = `${canonicalJson(record)}\n`;
      const start = end;
      end += Buffer.byteLength(line);
      const lineEnd = end;
      return durable.then(async () => {
        expect(syncedBytes).toBeGreaterThanOrEqual(lineEnd);
        const onDisk = await readFile(path);
        expect(onDisk.subarray(start, lineEnd).toString()).toBe(line);
      });
    });
    await Promise.all(checks);
    expect(log.syncCount).toBeGreaterThan(0);
    expect(log.syncCount).toBeLessThanOrEqual(5);
    expect(log.head.seq).toBe(500);

    // Appenders that each wait for their previous record still share syncs.
    const before = log.syncCount;
    await Promise.all(
      Array.from({ length: 20 }, async (_, worker) => {
        for (let i = 0; i < 10; i++) await log.append({ type: "worker", worker, i }).durable;
      }),
    );
    expect(log.syncCount - before).toBeLessThan(100);
    await log.close();
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, records: 700 });
  });

  it("stores a signed checkpoint every checkpointEvery records and at close", async () => {
    const dir = await stateDir();
    const { records } = await writeLog(dir, 7, { checkpointEvery: 3 });
    const { log } = await EventLog.open({ dir });
    const checkpoints = await log.checkpoints();
    expect(checkpoints.map((checkpoint) => [checkpoint.seq, checkpoint.hash])).toEqual(
      [3, 6, 7].map((seq) => [seq, records[seq - 1]?.hash]),
    );
    const publicKey = publicKeyFromPem(log.publicKeyPem());
    for (const checkpoint of checkpoints) expect(verifyCheckpoint(checkpoint, publicKey)).toEqual(checkpoint);
    await log.close();
    // Nothing new to cover: close stores no duplicate.
    expect(await readLines(dir, "checkpoints.jsonl")).toHaveLength(3);
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, records: 7, checkpointsChecked: 3 });
  });

  it("signs the durable head with the host key", async () => {
    const dir = await stateDir();
    const { log } = await EventLog.open({ dir, now: tickingClock() });
    const empty = log.signHead();
    expect(empty).toMatchObject({ seq: 0, hash: ZERO_HASH });
    const { record, durable } = log.append({ type: "x" });
    await durable;
    const checkpoint = log.signHead();
    expect(checkpoint).toMatchObject({ seq: 1, hash: record.hash });
    const spki = publicKeyFromPem(log.publicKeyPem()).publicKey.export({ type: "spki", format: "der" });
    expect(checkpoint.keyId).toBe(createHash("sha256").update(spki).digest("hex"));
    expect(verifyCheckpoint(JSON.parse(JSON.stringify(checkpoint)), log.publicKeyPem())).toEqual(checkpoint);
    await log.close();
    expect(await verifyEventLog({ dir, keptCheckpoints: [empty, checkpoint] })).toMatchObject({
      ok: true,
      checkpointsChecked: 3,
    });
  });

  it("creates the state directory 0700, the private key 0600 and the public key 0644", async () => {
    const dir = await stateDir();
    const { log } = await EventLog.open({ dir });
    const mode = async (file: string) => (await stat(join(dir, file))).mode & 0o777;
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await mode("host-key.pem")).toBe(0o600);
    expect(await mode("host-key.pub.pem")).toBe(0o644);
    expect(await mode("gateway.lock")).toBe(0o600);
    expect(await readFile(join(dir, "host-key.pem"), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(await readFile(join(dir, "host-key.pub.pem"), "utf8")).toBe(log.publicKeyPem());
    await log.close();
    // The same key is loaded again.
    const again = await EventLog.open({ dir });
    expect(again.log.publicKeyPem()).toBe(log.publicKeyPem());
    await again.log.close();
  });

  it("refuses a private key others can read, and a public key file that does not match", async () => {
    const dir = await stateDir();
    await writeLog(dir, 1);
    await chmod(join(dir, "host-key.pem"), 0o644);
    await expect(EventLog.open({ dir })).rejects.toMatchObject({
      code: "IC_AUDIT_KEY",
      message: /chmod 600/,
    });
    await chmod(join(dir, "host-key.pem"), 0o600);
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();
    await writeFile(join(dir, "host-key.pub.pem"), other);
    await expect(EventLog.open({ dir })).rejects.toMatchObject({
      code: "IC_AUDIT_KEY",
      message: /another key/,
    });
    // A missing public key file is written again from the private key.
    await rm(join(dir, "host-key.pub.pem"));
    const { log } = await EventLog.open({ dir });
    expect(await readFile(join(dir, "host-key.pub.pem"), "utf8")).toBe(log.publicKeyPem());
    await log.close();
  });
});
