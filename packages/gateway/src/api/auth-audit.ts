import type { SecurityEvent } from "./handle-request.js";

/**
 * What unauthenticated traffic may write to the log: one record per source, kind and window, holding a
 * count, and at most `budgetBytes` of records per window in all (the overflow is one summary record).
 * Before this, every refused request wrote an fsync'd record with its whole path: 30 MB in 4 s.
 */
export interface AuthAuditOptions {
  /** Receives each record to append; called only from `flush`. */
  readonly emit: (event: AggregatedAuthEvent) => void;
  /** Default 60 s. */
  readonly windowMs?: number;
  /** Bytes of log the records of one window may take, record overhead included (default 64 KiB). */
  readonly budgetBytes?: number;
  readonly now?: () => number;
}

export interface AggregatedAuthEvent {
  readonly type: SecurityEvent["type"];
  readonly [field: string]: string | number;
}

/** The most a path or reason keeps, in UTF-8 bytes. */
export const MAX_AUDITED_TEXT_BYTES = 256;
/** What the log adds to an event (seq, time, prev, hash and their keys), rounded up. */
const RECORD_OVERHEAD_BYTES = 220;
/** Room kept for the summary record of the sources that did not fit. */
const SUMMARY_RESERVE_BYTES = 512;
/** Sources remembered per window; beyond it requests only count toward the summary. */
const MAX_SOURCES = 4096;

interface Aggregate {
  readonly type: SecurityEvent["type"];
  readonly remote: string;
  readonly method: string;
  readonly path: string;
  readonly reason: string;
  readonly from: number;
  to: number;
  count: number;
}

/** Cuts `text` to at most `max` UTF-8 bytes, at a character boundary. */
export function cutToBytes(text: string, max = MAX_AUDITED_TEXT_BYTES): string {
  if (Buffer.byteLength(text) <= max) return text;
  const bytes = Buffer.from(text).subarray(0, max);
  // Drop a character cut in half (a lone lead or continuation byte decodes as U+FFFD).
  return bytes.toString("utf8").replace(/\uFFFD+$/u, "");
}

export class AuthAudit {
  readonly #emit: AuthAuditOptions["emit"];
  readonly #windowMs: number;
  readonly #budget: number;
  readonly #now: () => number;
  #windowStart: number;
  #aggregates = new Map<string, Aggregate>();
  #unlisted = 0;

  constructor(options: AuthAuditOptions) {
    this.#emit = options.emit;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#budget = options.budgetBytes ?? 64 * 1024;
    this.#now = options.now ?? Date.now;
    this.#windowStart = this.#now();
  }

  /** Counts one refused request; flushes the previous window first if it is over. */
  note(event: SecurityEvent): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) this.flush();
    const key = `${event.type} ${event.remote}`;
    const known = this.#aggregates.get(key);
    if (known !== undefined) {
      known.count += 1;
      known.to = now;
      return;
    }
    if (this.#aggregates.size >= MAX_SOURCES) {
      this.#unlisted += 1;
      return;
    }
    this.#aggregates.set(key, {
      type: event.type,
      remote: cutToBytes(event.remote, 64),
      method: cutToBytes(event.method, 16),
      path: cutToBytes(event.path),
      reason: cutToBytes(event.reason),
      from: now,
      to: now,
      count: 1,
    });
  }

  /** Emits the window's records, within the budget, and starts a new window. */
  flush(): void {
    const aggregates = [...this.#aggregates.values()];
    let unlisted = this.#unlisted;
    this.#aggregates = new Map();
    this.#unlisted = 0;
    this.#windowStart = this.#now();
    let spent = 0;
    let left: Aggregate[] = [];
    for (const [index, aggregate] of aggregates.entries()) {
      const event: AggregatedAuthEvent = {
        type: aggregate.type,
        remote: aggregate.remote,
        count: aggregate.count,
        method: aggregate.method,
        path: aggregate.path,
        reason: aggregate.reason,
        from: new Date(aggregate.from).toISOString(),
        to: new Date(aggregate.to).toISOString(),
      };
      const size = Buffer.byteLength(JSON.stringify(event)) + RECORD_OVERHEAD_BYTES;
      if (spent + size > this.#budget - SUMMARY_RESERVE_BYTES) {
        left = aggregates.slice(index);
        break;
      }
      spent += size;
      this.#emit(event);
    }
    for (const aggregate of left) unlisted += aggregate.count;
    if (unlisted > 0) {
      this.#emit({
        type: "auth.failed",
        remote: "(other sources)",
        count: unlisted,
        sources: left.length,
        reason: `more sources than one window's audit budget of ${this.#budget} bytes holds`,
      });
    }
  }
}
