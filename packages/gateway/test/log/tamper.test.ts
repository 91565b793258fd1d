import { appendFile, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "../../src/json.js";
import {
  type Checkpoint,
  canonicalJson,
  EventLog,
  type LogRecord,
  verifyEventLog,
} from "../../src/log/index.js";
import {
  expectRefused,
  readLines,
  rehash,
  rewriteWithHostKey,
  stateDir,
  writeLines,
  writeLog,
} from "./helpers.js";

const COUNT = 10;

function parse(line: string | undefined): LogRecord {
  return JSON.parse(line as string) as LogRecord;
}

function edited(line: string | undefined, fields: { readonly [key: string]: JsonValue }): string {
  return canonicalJson({ ...parse(line), ...fields });
}

describe("tampering with events.jsonl", () => {
  it.each([1, 5, COUNT])("an edited field of record %i names that record", async (k) => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines[k - 1] = edited(lines[k - 1], { note: "rewritten" });
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", k);
  });

  it.each([1, 5])(
    "an edit of record %i with its own hash recomputed breaks the next record's prev",
    async (k) => {
      const dir = await stateDir();
      await writeLog(dir, COUNT);
      const lines = await readLines(dir);
      lines[k - 1] = canonicalJson(rehash({ ...parse(lines[k - 1]), note: "rewritten" }));
      await writeLines(dir, lines);
      await expectRefused(dir, "IC_AUDIT_CORRUPT", k + 1);
    },
  );

  it("an edit of the last record with its hash recomputed is caught by the checkpoint stored at close", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines[COUNT - 1] = canonicalJson(rehash({ ...parse(lines[COUNT - 1]), note: "rewritten" }));
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CHECKPOINT", COUNT);
  });

  it.each([
    ["a space after {", (line: string) => `{ ${line.slice(1)}`],
    ["a trailing space", (line: string) => `${line} `],
    ["a CR before the LF", (line: string) => `${line}\r`],
    [
      "an escaped character that needs no escape",
      (line: string) => line.replace('"note":"event', '"note":"\\u0065vent'),
    ],
  ])("whitespace or encoding changes alone (%s) name the record", async (_name, change) => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines[3] = change(lines[3] as string);
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 4);
  });

  it("invalid UTF-8 bytes name the record", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const path = join(dir, "events.jsonl");
    const bytes = await readFile(path);
    bytes[bytes.indexOf("event 7")] = 0xff;
    await writeFile(path, bytes);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 7);
  });

  it.each([
    [1, 1],
    [5, 5],
  ])("deleting record %i names record %i", async (k, named) => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines.splice(k - 1, 1);
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", named);
  });

  it("deleting the last record is caught by the stored checkpoint as a truncation", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    await writeLines(dir, lines.slice(0, -1));
    await expectRefused(dir, "IC_AUDIT_TRUNCATED", COUNT);
  });

  it("inserting a well-chained forged record names the displaced record after it", async () => {
    const dir = await stateDir();
    const { records } = await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    const forged = rehash({ ...(records[4] as LogRecord), note: "forged", prev: records[3]?.hash as string });
    lines.splice(4, 0, canonicalJson(forged));
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 6);
  });

  it("inserting a copy of an earlier record names its position", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines.splice(4, 0, lines[1] as string);
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 5);
  });

  it("swapping two records names the first", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    [lines[3], lines[4]] = [lines[4] as string, lines[3] as string];
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 4);
  });

  it("duplicating a record names the copy", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const lines = await readLines(dir);
    lines.splice(5, 0, lines[4] as string);
    await writeLines(dir, lines);
    await expectRefused(dir, "IC_AUDIT_CORRUPT", 6);
  });

  it("cutting whole records off the end is caught by a stored checkpoint beyond the end", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT, { checkpointEvery: 3 });
    const lines = await readLines(dir);
    await writeLines(dir, lines.slice(0, 7));
    await expectRefused(dir, "IC_AUDIT_TRUNCATED", 8);
  });

  it("a torn last line is reported by verify and cut by open", async () => {
    const dir = await stateDir();
    const { records } = await writeLog(dir, COUNT);
    const path = join(dir, "events.jsonl");
    const clean = await readFile(path);
    // A crash while writing record 11: its line is only partly on disk.
    const torn = '{"n":11,"note":"event 11","prev":"';
    await appendFile(path, torn);
    const verification = await verifyEventLog({ dir });
    expect(verification).toMatchObject({
      ok: false,
      records: COUNT,
      failure: { code: "IC_AUDIT_TORN", record: 11 },
    });
    const { log, recovery } = await EventLog.open({ dir });
    expect(recovery).toEqual({ records: COUNT, truncatedBytes: torn.length, tornRecord: 11 });
    expect(log.head).toEqual({ seq: COUNT, hash: records[COUNT - 1]?.hash });
    await log.close();
    expect(await readFile(path)).toEqual(clean);
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, records: COUNT });
  });

  it("a record cut mid-line with no checkpoint covering it is a torn write", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    await rm(join(dir, "checkpoints.jsonl"));
    const path = join(dir, "events.jsonl");
    const lastLine = Buffer.byteLength(`${(await readLines(dir))[COUNT - 1]}\n`);
    await truncate(path, (await stat(path)).size - 20);
    expect((await verifyEventLog({ dir })).failure).toMatchObject({ code: "IC_AUDIT_TORN", record: COUNT });
    const { log, recovery } = await EventLog.open({ dir });
    expect(recovery).toEqual({ records: COUNT - 1, truncatedBytes: lastLine - 20, tornRecord: COUNT });
    await log.close();
    expect(await verifyEventLog({ dir })).toMatchObject({ ok: true, records: COUNT - 1 });
  });

  it("a record a checkpoint covers, cut mid-line, is a truncation, not a crash", async () => {
    const dir = await stateDir();
    await writeLog(dir, COUNT);
    const path = join(dir, "events.jsonl");
    await truncate(path, (await stat(path)).size - 20);
    await expectRefused(dir, "IC_AUDIT_TRUNCATED", COUNT);
  });
});

describe("a rewrite of history by someone holding the host key", () => {
  it("passes every stored check but is exposed by a checkpoint kept from before", async () => {
    const dir = await stateDir();
    const { kept } = await writeLog(dir, COUNT, { checkpointEvery: 3 });
    const keptAt6 = kept[5] as Checkpoint;
    const keptAt2 = kept[1] as Checkpoint;
    // The intruder edits record 4, rechains everything after it and re-signs every stored checkpoint.
    const stored = await rewriteWithHostKey(dir);

    expect(await verifyEventLog({ dir })).toMatchObject({
      ok: true,
      records: COUNT,
      checkpointsChecked: stored.checkpoints,
    });
    const { log } = await EventLog.open({ dir });
    await log.close();
    // A checkpoint kept from before the rewritten record still agrees; one kept after it exposes the rewrite.
    expect(await verifyEventLog({ dir, keptCheckpoints: [keptAt2] })).toMatchObject({ ok: true });
    const exposed = await verifyEventLog({ dir, keptCheckpoints: [keptAt2, keptAt6] });
    expect(exposed).toMatchObject({ ok: false, failure: { code: "IC_AUDIT_CHECKPOINT", record: 6 } });
    expect(exposed.failure?.message).toContain("kept checkpoint #2");
  });
});
