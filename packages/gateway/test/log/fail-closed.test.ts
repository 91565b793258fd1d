import { type FileHandle, open } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { EventLog, type EventLogOptions, verifyEventLog } from "../../src/log/index.js";
import { stateDir } from "./helpers.js";

/** Opens the log's files normally and hands the events.jsonl handle to the test. */
function capture(): { factory: NonNullable<EventLogOptions["fileHandleFactory"]>; events: () => FileHandle } {
  let events: FileHandle | undefined;
  return {
    factory: async (path, flags) => {
      const handle = await open(path, flags, 0o600);
      if (path.endsWith("events.jsonl")) events = handle;
      return handle;
    },
    events: () => events as FileHandle,
  };
}

describe("a failing write fails closed", () => {
  it("rejects the append whose write failed and refuses every later append", async () => {
    const dir = await stateDir();
    const files = capture();
    const { log } = await EventLog.open({ dir, fileHandleFactory: files.factory });
    await log.append({ type: "ok", n: 1 }).durable;
    await log.append({ type: "ok", n: 2 }).durable;
    // Close the file behind the log's back: the next write gets EBADF.
    await files.events().close();
    const { durable } = log.append({ type: "lost" });
    await expect(durable).rejects.toMatchObject({ name: "GatewayError", code: "IC_AUDIT_WRITE" });
    expect(log.failed).toBe(true);
    expect(() => log.append({ type: "later" })).toThrow(expect.objectContaining({ code: "IC_AUDIT_WRITE" }));
    expect(log.durableHead.seq).toBe(2);
    await log.close();
    const { log: reopened, recovery } = await EventLog.open({ dir });
    expect(recovery).toEqual({ records: 2, truncatedBytes: 0 });
    await reopened.close();
  });

  it("rejects the batch whose sync failed and everything queued behind it", async () => {
    const dir = await stateDir();
    const files = capture();
    const { log } = await EventLog.open({ dir, fileHandleFactory: files.factory });
    await log.append({ type: "ok" }).durable;
    const handle = files.events();
    handle.datasync = async () => {
      await sleep(30);
      throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    };
    const first = log.append({ type: "written, never synced" }).durable;
    await sleep(5); // the first batch is now in flight
    const behind = log.append({ type: "queued behind" }).durable;
    await expect(first).rejects.toMatchObject({ code: "IC_AUDIT_WRITE" });
    await expect(behind).rejects.toMatchObject({ code: "IC_AUDIT_WRITE" });
    expect(() => log.append({ type: "later" })).toThrow(expect.objectContaining({ code: "IC_AUDIT_WRITE" }));
    await log.close();
    // The unsynced line did reach the page cache; the queued one never did.
    const verification = await verifyEventLog({ dir });
    expect(verification).toMatchObject({ ok: true, records: 2 });
  });

  it("refuses appends after close", async () => {
    const dir = await stateDir();
    const { log } = await EventLog.open({ dir });
    await log.close();
    expect(() => log.append({ type: "late" })).toThrow(expect.objectContaining({ code: "IC_AUDIT_WRITE" }));
    await log.close();
  });
});
