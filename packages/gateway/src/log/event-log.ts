import { type FileHandle, open } from "node:fs/promises";
import { GatewayError } from "../errors.js";
import { ChainVerifier } from "./chain-verifier.js";
import { type Checkpoint, checkpointLine, signCheckpoint } from "./checkpoint.js";
import { checkCheckpoints } from "./checkpoint-file.js";
import { CHECKPOINTS_FILE, EVENTS_FILE, statePath } from "./files.js";
import { GroupCommit, writeAll } from "./group-commit.js";
import { writeSeal } from "./head-seal.js";
import type { HostKey } from "./host-key.js";
import { type OpenedState, openState, type RecoveryReport } from "./open-state.js";
import { type LogRecord, type NewEvent, sealRecord } from "./record.js";

export interface EventLogOptions {
  readonly dir: string;
  readonly now?: () => Date;
  /** Store a signed checkpoint each time this many more records are durable (default 1000). */
  readonly checkpointEvery?: number;
  /** Each record of the existing log, in order, after it is verified (the gateway folds them into its state). */
  readonly onRecord?: (record: LogRecord) => void;
  /** Which record types onRecord is given (default all): the others are verified but not parsed. */
  readonly recordTypes?: (type: string) => boolean;
  /** A directory holding an append-only checkpoints.jsonl another user owns (see witness.ts). */
  readonly witness?: string;
  /** Test seam: opens events.jsonl and checkpoints.jsonl for appending. */
  readonly fileHandleFactory?: (path: string, flags: "a") => Promise<FileHandle>;
}

export type { RecoveryReport };

export interface Head {
  readonly seq: number;
  readonly hash: string;
}

/** The append-only, hash-chained event log of one state directory; one open log per directory (locked). */
export class EventLog {
  private seq: number;
  private headHash: string;
  private durable: Head;
  private lastCheckpointSeq: number;
  private checkpointTask: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private readonly writer: GroupCommit;
  /** ends[n] = byte offset just past record n's LF (ends[0] = 0): lets read() seek without keeping records. */
  private readonly ends: number[];
  private readonly now: () => Date;
  private readonly every: number;
  private sealSlot: number;
  /** Settles once the last record appended so far is durable (or its write failed). */
  private lastDurable: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly state: OpenedState,
    options: EventLogOptions,
  ) {
    this.seq = state.head.seq;
    this.headHash = state.head.hash;
    this.durable = state.head;
    this.lastCheckpointSeq = state.lastCheckpointSeq;
    this.ends = state.ends;
    this.now = options.now ?? (() => new Date());
    this.every = options.checkpointEvery ?? 1000;
    this.sealSlot = state.sealSlot;
    this.writer = new GroupCommit(
      state.events,
      (seq, hash) => this.onDurable(seq, hash),
      (seq, hash) => this.seal(seq, hash),
    );
  }

  /**
   * Takes the lock, loads or creates the host key, verifies the whole chain and every stored checkpoint,
   * calls onRecord for each record, and cuts a torn last line. Throws IC_AUDIT_* on anything else wrong.
   */
  static async open(options: EventLogOptions): Promise<{ log: EventLog; recovery: RecoveryReport }> {
    const every = options.checkpointEvery ?? 1000;
    if (!Number.isSafeInteger(every) || every < 1)
      throw new RangeError("checkpointEvery must be a positive integer");
    const state = await openState(
      options.dir,
      options.onRecord,
      options.fileHandleFactory,
      options.witness,
      options.recordTypes,
    );
    return { log: new EventLog(options.dir, state, options), recovery: state.recovery };
  }

  /**
   * Assigns seq, time, prev and hash now and queues the line. `durable` resolves once the line is written and
   * fdatasync'ed, or rejects with IC_AUDIT_WRITE. A failed or closed log throws IC_AUDIT_WRITE instead of
   * creating a record; a malformed event throws TypeError.
   */
  append(event: NewEvent): { readonly record: LogRecord; readonly durable: Promise<void> } {
    if (this.closing !== undefined) {
      throw new GatewayError(
        "IC_AUDIT_WRITE",
        "expected an open event log, found it closed; open it again to append",
      );
    }
    if (this.writer.failure !== undefined) throw this.writer.failure;
    const seq = this.seq + 1;
    const { record, line } = sealRecord(event, seq, this.now().toISOString(), this.headHash);
    const durable = this.writer.enqueue(line, seq, record.hash);
    this.lastDurable = durable.then(
      () => undefined,
      () => undefined,
    );
    this.seq = seq;
    this.headHash = record.hash;
    this.ends.push((this.ends[this.ends.length - 1] as number) + Buffer.byteLength(line));
    return { record, durable };
  }

  /** The last record assigned (seq 0 and the zero hash when empty), durable or not. */
  get head(): Head {
    return { seq: this.seq, hash: this.headHash };
  }

  /** Settles when every record appended before the call is durable, or could not be written. */
  settled(): Promise<void> {
    return this.lastDurable;
  }

  /** The last record known to be written and synced. */
  get durableHead(): Head {
    return this.durable;
  }

  get failed(): boolean {
    return this.writer.failure !== undefined;
  }

  /** Completed fdatasync calls of events.jsonl (group commit makes this far fewer than appends). */
  get syncCount(): number {
    return this.writer.syncCount;
  }

  /** Durable records with seq > after, at most `limit`, read back from disk and checked again. */
  async read(after: number, limit: number): Promise<LogRecord[]> {
    if (!Number.isSafeInteger(after) || after < 0 || !Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError("read(after, limit) takes non-negative integers");
    }
    const last = Math.min(this.durable.seq, after + limit);
    if (last <= after) return [];
    const start = this.ends[after] as number;
    const bytes = Buffer.allocUnsafe((this.ends[last] as number) - start);
    const handle = await open(statePath(this.dir, EVENTS_FILE), "r");
    try {
      let filled = 0;
      while (filled < bytes.length) {
        const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, start + filled);
        if (bytesRead === 0) {
          throw new GatewayError(
            "IC_AUDIT_TRUNCATED",
            `expected events.jsonl to hold records up to ${last}, found it shorter: it was cut while the gateway ran`,
            { record: after + 1 },
          );
        }
        filled += bytesRead;
      }
    } finally {
      await handle.close();
    }
    const verifier = new ChainVerifier(after, null);
    const records: LogRecord[] = [];
    let lineStart = 0;
    for (let lf = bytes.indexOf(10); lf !== -1; lf = bytes.indexOf(10, lineStart)) {
      records.push(verifier.accept(bytes, lineStart, lf));
      lineStart = lf + 1;
    }
    return records;
  }

  /** A freshly signed checkpoint of the durable head (not stored); users may keep it to detect rewrites. */
  signHead(): Checkpoint {
    return signCheckpoint(this.key, this.durable, this.now().toISOString());
  }

  /** The checkpoints stored in checkpoints.jsonl, each checked against the host key. */
  async checkpoints(): Promise<Checkpoint[]> {
    const checked = await checkCheckpoints(statePath(this.dir, CHECKPOINTS_FILE), this.key);
    if (checked.failures[0] !== undefined) throw checked.failures[0];
    return checked.stored;
  }

  publicKeyPem(): string {
    return this.key.publicKeyPem;
  }

  /** Waits for queued appends, stores a checkpoint of the head, closes the files and releases the lock. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private get key(): HostKey {
    return this.state.key;
  }

  private async shutdown(): Promise<void> {
    try {
      await this.writer.drain();
      if (this.durable.seq > this.lastCheckpointSeq) this.storeCheckpoint();
      await this.checkpointTask;
    } finally {
      await Promise.allSettled([
        this.state.events.close(),
        this.state.checkpoints.close(),
        this.state.seal.close(),
        this.state.witness?.close(),
      ]);
      await this.state.releaseLock();
    }
  }

  /** Signs a group commit's head into head.sig: records nobody signed were not written by this log. */
  private async seal(seq: number, hash: string): Promise<void> {
    // Wall-clock time: the seal's time means nothing to the chain, and tests' clocks count their calls.
    const checkpoint = signCheckpoint(this.key, { seq, hash }, new Date().toISOString());
    const slot = this.sealSlot;
    this.sealSlot = 1 - slot;
    await writeSeal(this.state.seal, slot, checkpoint);
  }

  private onDurable(seq: number, hash: string): void {
    this.durable = { seq, hash };
    if (Math.floor(seq / this.every) > Math.floor(this.lastCheckpointSeq / this.every))
      this.storeCheckpoint();
  }

  /** Signs the durable head and appends it to checkpoints.jsonl off the acknowledgement path. */
  private storeCheckpoint(): void {
    let checkpoint: Checkpoint;
    try {
      checkpoint = this.signHead();
    } catch (cause) {
      this.writer.fail(cause, "a checkpoint");
      return;
    }
    this.lastCheckpointSeq = checkpoint.seq;
    const handle = this.state.checkpoints;
    this.checkpointTask = this.checkpointTask
      .then(async () => {
        const line = Buffer.from(checkpointLine(checkpoint), "utf8");
        await writeAll(handle, line);
        await handle.datasync();
        if (this.state.witness !== undefined) {
          await writeAll(this.state.witness, line);
          await this.state.witness.datasync();
        }
      })
      .catch((cause: unknown) => {
        this.writer.fail(cause, "checkpoints.jsonl");
      });
  }
}
