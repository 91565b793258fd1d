/** A window's refusals that were counted, not written one by one. */
export interface CountedRefusals {
  readonly count: number;
  readonly from: Date;
  readonly to: Date;
}

/**
 * Bounds how many refusals of an agent's own requests (malformed, unknown route, busy, over budget:
 * nothing spent) are written to the audit log one by one: the agent is untrusted and may not grow
 * the log at will. Past `perWindow` in a window they are counted, and the count is written once when
 * the window ends or the proxy closes. The same rule as the agent API's refusal audit.
 */
export class RefusalThrottle {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart: number;
  #written = 0;
  #counted: { count: number; from: number; to: number } | undefined;

  constructor(perWindow: number, windowMs: number, now: () => number = Date.now) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#windowStart = now();
  }

  /** The count of the window that just ended, if it is over and counted any; to be written first. */
  due(): CountedRefusals | undefined {
    return this.#now() - this.#windowStart >= this.#windowMs ? this.roll() : undefined;
  }

  /** True: write this refusal's record. False: it was counted instead. */
  admit(): boolean {
    if (this.#written < this.#perWindow) {
      this.#written += 1;
      return true;
    }
    const now = this.#now();
    if (this.#counted === undefined) this.#counted = { count: 0, from: now, to: now };
    this.#counted.count += 1;
    this.#counted.to = now;
    return false;
  }

  /** Ends the window: returns what it counted, if anything, and starts a new one. */
  roll(): CountedRefusals | undefined {
    const counted = this.#counted;
    this.#counted = undefined;
    this.#written = 0;
    this.#windowStart = this.#now();
    return counted === undefined
      ? undefined
      : { count: counted.count, from: new Date(counted.from), to: new Date(counted.to) };
  }
}
