export interface FailedAuthLimiterOptions {
  /** Failures from one address within `windowMs` that start a block (default 10). */
  readonly failuresPerWindow?: number;
  /** How long failures are counted, and how long a block lasts once it starts (default 60 s). */
  readonly windowMs?: number;
  /** The most addresses tracked at once; beyond it the oldest is forgotten (default 10 000). */
  readonly maxTracked?: number;
  readonly now?: () => number;
}

export type LimitDecision =
  | { readonly limited: false }
  | {
      readonly limited: true;
      readonly retryAfterSeconds: number;
      /** True for the first refused request of a block, so a flood yields one audit record, not one per request. */
      readonly firstRefusal: boolean;
    };

interface Entry {
  readonly windowStart: number;
  failures: number;
  blockedUntil: number;
  reported: boolean;
}

/**
 * Counts failed authentications per remote address. Once an address fails `failuresPerWindow` times
 * within `windowMs`, every request from it is refused for `windowMs` — even one with a valid token, so
 * the refusal cannot be used to test guesses. Memory is bounded: at most `maxTracked` entries, the
 * oldest evicted first (on a tailnet the peers are few; evicting lets a many-address attacker reset
 * counts, which is the price of the bound).
 */
export class FailedAuthLimiter {
  readonly #failuresPerWindow: number;
  readonly #windowMs: number;
  readonly #maxTracked: number;
  readonly #now: () => number;
  // A Map iterates in insertion order, and entries are re-inserted only when a new window starts, so the
  // first key is the oldest window.
  readonly #entries = new Map<string, Entry>();

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.#failuresPerWindow = positiveInteger(options.failuresPerWindow ?? 10, "failuresPerWindow");
    this.#windowMs = positiveInteger(options.windowMs ?? 60_000, "windowMs");
    this.#maxTracked = positiveInteger(options.maxTracked ?? 10_000, "maxTracked");
    this.#now = options.now ?? Date.now;
  }

  get trackedAddresses(): number {
    return this.#entries.size;
  }

  check(remote: string): LimitDecision {
    const entry = this.#current(remote, this.#now());
    if (entry === undefined || entry.blockedUntil === 0) return { limited: false };
    const firstRefusal = !entry.reported;
    entry.reported = true;
    const retryAfterSeconds = Math.max(1, Math.ceil((entry.blockedUntil - this.#now()) / 1000));
    return { limited: true, retryAfterSeconds, firstRefusal };
  }

  recordFailure(remote: string): void {
    const now = this.#now();
    let entry = this.#current(remote, now);
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxTracked) this.#evictOldest();
      entry = { windowStart: now, failures: 0, blockedUntil: 0, reported: false };
      this.#entries.set(remote, entry);
    }
    entry.failures++;
    if (entry.failures >= this.#failuresPerWindow && entry.blockedUntil === 0) {
      entry.blockedUntil = now + this.#windowMs;
    }
  }

  /** The entry still in force for an address, dropping it once its window and any block have passed. */
  #current(remote: string, now: number): Entry | undefined {
    const entry = this.#entries.get(remote);
    if (entry === undefined) return undefined;
    const expiresAt = entry.blockedUntil !== 0 ? entry.blockedUntil : entry.windowStart + this.#windowMs;
    if (now < expiresAt) return entry;
    this.#entries.delete(remote);
    return undefined;
  }

  #evictOldest(): void {
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`expected ${name} to be a positive integer, found ${value}`);
  }
  return value;
}
