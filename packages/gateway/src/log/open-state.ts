import { type FileHandle, mkdir, open } from "node:fs/promises";
import { syncDirectory } from "../durable-file.js";
import { checkCheckpoints } from "./checkpoint-file.js";
import { CHECKPOINTS_FILE, EVENTS_FILE, isErrnoCode, LOCK_FILE, statePath } from "./files.js";
import { type HostKey, loadOrCreateHostKey } from "./host-key.js";
import { acquireLock } from "./lock.js";
import type { LogRecord } from "./record.js";
import { scanChain } from "./scan-chain.js";

export interface RecoveryReport {
  readonly records: number;
  /** 0 when the tail was clean. */
  readonly truncatedBytes: number;
  /** The seq the torn line would have had. */
  readonly tornRecord?: number;
}

/** Everything EventLog needs from a verified state directory. */
export interface OpenedState {
  readonly key: HostKey;
  readonly events: FileHandle;
  readonly checkpoints: FileHandle;
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
): Promise<OpenedState> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const releaseLock = await acquireLock(statePath(dir, LOCK_FILE));
  const handles: FileHandle[] = [];
  try {
    const key = await loadOrCreateHostKey(dir);
    const checkpointsPath = statePath(dir, CHECKPOINTS_FILE);
    const checked = await checkCheckpoints(checkpointsPath, key);
    const eventsPath = statePath(dir, EVENTS_FILE);
    const created = !(await exists(eventsPath));
    const events = await openFile(eventsPath, "a");
    handles.push(events);
    if (created) await syncDirectory(dir);
    const ends = [0];
    const scan = await scanChain(eventsPath, {
      expectations: checked.expectations,
      failures: checked.failures,
      onRecord: (record, end) => {
        ends.push(end);
        onRecord?.(record);
      },
    });
    if (scan.failure !== undefined) throw scan.failure;
    if (scan.tailBytes > 0) {
      await events.truncate(scan.completeBytes);
      await events.sync();
    }
    const checkpoints = await openFile(checkpointsPath, "a");
    handles.push(checkpoints);
    // A torn checkpoint line is an unfinished write that claims nothing: drop it.
    if (checked.tailBytes > 0) {
      await checkpoints.truncate(checked.completeBytes);
      await checkpoints.sync();
    }
    let lastCheckpointSeq = 0;
    for (const checkpoint of checked.stored) lastCheckpointSeq = Math.max(lastCheckpointSeq, checkpoint.seq);
    const recovery: RecoveryReport =
      scan.tailBytes > 0
        ? { records: scan.records, truncatedBytes: scan.tailBytes, tornRecord: scan.records + 1 }
        : { records: scan.records, truncatedBytes: 0 };
    return { key, events, checkpoints, head: scan.head, ends, lastCheckpointSeq, recovery, releaseLock };
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await releaseLock();
    throw error;
  }
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
