import { type FileHandle, mkdir, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { replaceFileDurably, syncDirectory } from "../durable-file.js";
import type { Checkpoint } from "./checkpoint.js";
import { checkCheckpoints } from "./checkpoint-file.js";
import { CHECKPOINTS_FILE, EVENTS_FILE, isErrnoCode, LOCK_FILE, statePath } from "./files.js";
import { nextSlot, openSealFile, readSeals, SEAL_FILE } from "./head-seal.js";
import { type HostKey, loadOrCreateHostKey } from "./host-key.js";
import { acquireLock } from "./lock.js";
import type { LogRecord } from "./record.js";
import { scanChain } from "./scan-chain.js";
import { openWitness, readWitness } from "./witness.js";

export interface RecoveryReport {
  readonly records: number;
  /** 0 when the tail was clean. */
  readonly truncatedBytes: number;
  /** The seq the torn line would have had. */
  readonly tornRecord?: number;
  /** Complete records no host signature covered, cut off the log and kept in `quarantine`. */
  readonly unsignedRecords?: number;
  readonly quarantine?: string;
}

/** Everything EventLog needs from a verified state directory. */
export interface OpenedState {
  readonly key: HostKey;
  readonly events: FileHandle;
  readonly checkpoints: FileHandle;
  /** head.sig, and the slot its next seal goes to. */
  readonly seal: FileHandle;
  readonly sealSlot: number;
  /** The witness checkpoints are also appended to, if any. */
  readonly witness?: FileHandle;
  readonly head: { readonly seq: number; readonly hash: string };
  /** ends[n] = byte offset just past record n's LF; ends[0] = 0. */
  readonly ends: number[];
  readonly lastCheckpointSeq: number;
  readonly recovery: RecoveryReport;
  readonly releaseLock: () => Promise<void>;
}

type OpenFile = (path: string, flags: "a") => Promise<FileHandle>;

const defaultOpen: OpenFile = (path, flags) => open(path, flags, 0o600);

/**
 * Locks `dir`, loads the host key, verifies events.jsonl against itself and checkpoints.jsonl, and cuts torn
 * last lines (a crash mid-write). Any other damage throws, with the lock released.
 */
export async function openState(
  dir: string,
  onRecord: ((record: LogRecord) => void) | undefined,
  openFile: OpenFile = defaultOpen,
  witnessDir?: string,
  parse?: (type: string) => boolean,
): Promise<OpenedState> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const releaseLock = await acquireLock(statePath(dir, LOCK_FILE));
  const handles: FileHandle[] = [];
  try {
    const key = await loadOrCreateHostKey(dir);
    let witness: FileHandle | undefined;
    let witnessed: Checkpoint[] = [];
    if (witnessDir !== undefined) {
      witness = await openWitness(witnessDir);
      handles.push(witness);
      // What the witness holds must agree with the log: a rewritten history does not start.
      witnessed = await readWitness(witnessDir);
    }
    const checkpointsPath = statePath(dir, CHECKPOINTS_FILE);
    const checked = await checkCheckpoints(checkpointsPath, key, witnessed);
    const eventsPath = statePath(dir, EVENTS_FILE);
    const created = !(await exists(eventsPath));
    const events = await openFile(eventsPath, "a");
    handles.push(events);
    if (created) await syncDirectory(dir);
    const ends = [0];
    const seals = await readSeals(statePath(dir, SEAL_FILE), key);
    const scan = await scanChain(eventsPath, {
      expectations: checked.expectations,
      failures: checked.failures,
      seals,
      ...(parse === undefined ? {} : { parse }),
      onRecord: (record, end) => {
        ends.push(end);
        if (record !== undefined) onRecord?.(record);
      },
    });
    if (scan.failure !== undefined) throw scan.failure;
    // Records no seal or checkpoint covers were never acknowledged (an acknowledgement waits for the
    // seal): a commit cut by a crash, or records someone else appended. Never folded; moved aside.
    const unsigned = scan.signedThrough < scan.records;
    const keep = unsigned ? scan.signedBytes : scan.completeBytes;
    const totalBytes = scan.completeBytes + scan.tailBytes;
    let quarantine: string | undefined;
    if (unsigned) quarantine = await moveAside(eventsPath, keep, scan.signedThrough + 1);
    if (keep < totalBytes) {
      await events.truncate(keep);
      await events.sync();
    }
    const checkpoints = await openFile(checkpointsPath, "a");
    handles.push(checkpoints);
    const seal = await openSealFile(statePath(dir, SEAL_FILE));
    handles.push(seal);
    // A torn checkpoint line is an unfinished write that claims nothing: drop it.
    if (checked.tailBytes > 0) {
      await checkpoints.truncate(checked.completeBytes);
      await checkpoints.sync();
    }
    let lastCheckpointSeq = 0;
    for (const checkpoint of checked.stored) lastCheckpointSeq = Math.max(lastCheckpointSeq, checkpoint.seq);
    const head = unsigned ? { seq: scan.signedThrough, hash: scan.signedHash } : scan.head;
    const recovery: RecoveryReport =
      keep < totalBytes
        ? {
            records: head.seq,
            truncatedBytes: totalBytes - keep,
            tornRecord: head.seq + 1,
            ...(quarantine === undefined
              ? {}
              : { unsignedRecords: scan.records - head.seq, quarantine: basename(quarantine) }),
          }
        : { records: head.seq, truncatedBytes: 0 };
    const sealSlot = nextSlot(seals);
    return {
      key,
      events,
      checkpoints,
      seal,
      sealSlot,
      ...(witness === undefined ? {} : { witness }),
      head,
      ends,
      lastCheckpointSeq,
      recovery,
      releaseLock,
    };
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await releaseLock();
    throw error;
  }
}

/** Copies events.jsonl from byte `from` to a file of its own (0600, synced), for whoever investigates. */
async function moveAside(eventsPath: string, from: number, firstSeq: number): Promise<string> {
  const path = join(dirname(eventsPath), `events.unsigned-${firstSeq}-${Date.now()}.jsonl`);
  const source = await open(eventsPath, "r");
  try {
    const { size } = await source.stat();
    const bytes = Buffer.alloc(size - from);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await source.read(bytes, filled, bytes.length - filled, from + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    await replaceFileDurably(path, bytes.subarray(0, filled), { mode: 0o600, exactMode: true });
  } finally {
    await source.close();
  }
  return path;
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, "r")).close();
    return true;
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return false;
    throw error;
  }
}
