import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import type { GatewayErrorCode } from "../../src/errors.js";
import type { JsonValue } from "../../src/json.js";
import { SEAL_FILE, writeSeal } from "../../src/log/head-seal.js";
import {
  type Checkpoint,
  canonicalJson,
  checkpointLine,
  EventLog,
  type EventLogOptions,
  hostKeyFromPrivatePem,
  type LogRecord,
  signCheckpoint,
  verifyEventLog,
} from "../../src/log/index.js";

/** A fresh state directory (inside a temp dir, so the log creates it), removed after the test. */
export async function stateDir(): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), "ironclaw-log-"));
  onTestFinished(() => rm(parent, { recursive: true, force: true }));
  return join(parent, "state");
}

/** A clock that ticks one second per call, so times are predictable. */
export function tickingClock(start = Date.UTC(2030, 0, 1)): () => Date {
  let t = start;
  return () => {
    const now = new Date(t);
    t += 1000;
    return now;
  };
}

export interface Written {
  readonly records: LogRecord[];
  /** signHead() taken after each record (index i holds the checkpoint of record i+1). */
  readonly kept: Checkpoint[];
}

/** Writes `count` records one by one (each durable before the next) and closes the log. */
export async function writeLog(
  dir: string,
  count: number,
  options: Omit<EventLogOptions, "dir"> = {},
): Promise<Written> {
  const { log } = await EventLog.open({ dir, now: tickingClock(), ...options });
  const records: LogRecord[] = [];
  const kept: Checkpoint[] = [];
  for (let i = 1; i <= count; i++) {
    const { record, durable } = log.append({ type: "test.event", n: i, note: `event ${i}` });
    await durable;
    records.push(record);
    kept.push(log.signHead());
  }
  await log.close();
  return { records, kept };
}

export async function readLines(dir: string, file = "events.jsonl"): Promise<string[]> {
  const text = await readFile(join(dir, file), "utf8");
  return text.split("\n").slice(0, -1);
}

export async function writeLines(
  dir: string,
  lines: readonly string[],
  file = "events.jsonl",
): Promise<void> {
  await writeFile(join(dir, file), lines.map((line) => `${line}\n`).join(""));
}

/** What an intruder computes: a record's hash over its canonical JSON without `hash`. */
export function rehash(fields: { readonly [key: string]: JsonValue }): LogRecord {
  const { hash: _old, ...body } = fields;
  const hash = createHash("sha256").update(canonicalJson(body)).digest("hex");
  return { ...body, hash } as LogRecord;
}

/** Asserts verification fails with `code` at `record`, and that the log refuses to open naming it too. */
export async function expectRefused(
  dir: string,
  code: GatewayErrorCode,
  record: number,
  options: { keptCheckpoints?: readonly Checkpoint[]; skipOpen?: boolean } = {},
): Promise<void> {
  const verification = await verifyEventLog({
    dir,
    ...(options.keptCheckpoints === undefined ? {} : { keptCheckpoints: options.keptCheckpoints }),
  });
  expect(verification.ok).toBe(false);
  expect(verification.failure).toMatchObject({ code, record });
  if (options.skipOpen) return;
  const error = await EventLog.open({ dir }).then(
    async ({ log }) => {
      await log.close();
      return undefined;
    },
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ name: "GatewayError", code, record });
}

/**
 * What a holder of the host key can do: edit record 4, rechain everything after it, re-sign every
 * stored checkpoint and the head's seal (both slots of head.sig). Returns how many checkpoints it re-signed.
 */
export async function rewriteWithHostKey(dir: string): Promise<{ checkpoints: number }> {
  const forged: LogRecord[] = [];
  let prev = "";
  for (const [i, line] of (await readLines(dir)).entries()) {
    let record = JSON.parse(line) as LogRecord;
    if (i === 3) record = rehash({ ...record, note: "nothing happened here" });
    else if (i > 3) record = rehash({ ...record, prev });
    prev = record.hash;
    forged.push(record);
  }
  await writeLines(
    dir,
    forged.map((record) => canonicalJson(record)),
  );
  const key = hostKeyFromPrivatePem(await readFile(join(dir, "host-key.pem"), "utf8"));
  const stored = (await readLines(dir, "checkpoints.jsonl")).map(
    (line) => JSON.parse(line) as { seq: number; time: string },
  );
  const resigned = stored.map((c) =>
    checkpointLine(
      signCheckpoint(key, { seq: c.seq, hash: forged[c.seq - 1]?.hash as string }, c.time),
    ).slice(0, -1),
  );
  await writeLines(dir, resigned, "checkpoints.jsonl");
  const head = forged.at(-1) as LogRecord;
  const seal = await open(join(dir, SEAL_FILE), "r+");
  try {
    for (const slot of [0, 1]) {
      await writeSeal(seal, slot, signCheckpoint(key, { seq: head.seq, hash: head.hash }, head.time));
    }
  } finally {
    await seal.close();
  }
  return { checkpoints: stored.length };
}
