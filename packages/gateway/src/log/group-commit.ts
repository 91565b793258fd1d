import type { FileHandle } from "node:fs/promises";
import { GatewayError } from "../errors.js";

interface Batch {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: GatewayError) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: GatewayError) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

/** Writes all of `bytes` at the end of an append-mode file (a short write is retried, not assumed away). */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${offset} of ${bytes.length}`);
    offset += bytesWritten;
  }
}

/**
 * Group commit: lines queued while one write+fdatasync is in flight go out together in the next single
 * write+fdatasync, and share one promise that settles after it. The first failure is final (fail closed):
 * that batch, everything queued behind it and every later enqueue is refused with IC_AUDIT_WRITE.
 */
export class GroupCommit {
  private queue: string[] = [];
  private batch: Batch | undefined;
  private batchSeq = 0;
  private batchHash = "";
  private running: Promise<void> | undefined;
  private error: GatewayError | undefined;
  private syncs = 0;

  constructor(
    private readonly handle: FileHandle,
    /** Called after each batch is durable with its last record; must not throw. */
    private readonly onDurable: (seq: number, hash: string) => void,
    /** Signs and syncs each batch's head, alongside the sync of the batch; the batch waits for both. */
    private readonly seal?: (seq: number, hash: string) => Promise<void>,
  ) {}

  get failure(): GatewayError | undefined {
    return this.error;
  }

  /** Completed fdatasync calls, for tests and metrics. */
  get syncCount(): number {
    return this.syncs;
  }

  enqueue(line: string, seq: number, hash: string): Promise<void> {
    if (this.error !== undefined) throw this.error;
    this.queue.push(line);
    this.batchSeq = seq;
    this.batchHash = hash;
    this.batch ??= newBatch();
    this.running ??= this.run();
    return this.batch.promise;
  }

  /** Settles once nothing is queued or in flight; never rejects. */
  async drain(): Promise<void> {
    await this.running;
  }

  /** Marks the log failed: nothing queued or later is acknowledged. */
  fail(cause: unknown, what: string): GatewayError {
    this.error ??= new GatewayError(
      "IC_AUDIT_WRITE",
      `expected to write and sync ${what}, found ${String(cause)}; nothing after the last acknowledged record ` +
        "is acknowledged and the log refuses appends until the gateway is restarted (which repairs a torn tail)",
      { cause },
    );
    this.batch?.reject(this.error);
    this.batch = undefined;
    this.queue = [];
    return this.error;
  }

  private async run(): Promise<void> {
    // Let the current burst of synchronous appends join the first batch.
    await Promise.resolve();
    while (this.queue.length > 0 && this.error === undefined) {
      const lines = this.queue;
      const batch = this.batch as Batch;
      const seq = this.batchSeq;
      const hash = this.batchHash;
      this.queue = [];
      this.batch = undefined;
      try {
        await writeAll(this.handle, Buffer.from(lines.join(""), "utf8"));
        await Promise.all([this.handle.datasync(), this.seal?.(seq, hash)]);
      } catch (cause) {
        batch.reject(this.fail(cause, "events.jsonl"));
        break;
      }
      this.syncs++;
      this.onDurable(seq, hash);
      batch.resolve();
    }
    this.running = undefined;
  }
}
