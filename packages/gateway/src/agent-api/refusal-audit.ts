import { cutToBytes } from "../api/auth-audit.js";
import type { JsonValue } from "../json.js";

/** One refused request of an agent at its API, as the log records it. */
export interface AgentRefusal {
  readonly method: string;
  readonly path: string;
  readonly code: string;
  readonly reason: string;
}

export interface RefusalAuditOptions {
  readonly agent: string;
  readonly emit: (event: { readonly type: string; readonly [field: string]: JsonValue }) => void;
  /** Records written one by one per window; the rest are counted into one summary. Default 32. */
  readonly perWindow?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
  readonly now?: () => number;
}

/**
 * Every refusal at an agent's API is a security event in the log, written at once, so an operator sees
 * an agent reaching past its approvals as it happens. An agent is untrusted, so it may not grow the
 * log at will: past `perWindow` records in a window, refusals are only counted, and the count is written
 * as one `agent_api.refused` record with `count` when the window ends (or the API closes).
 */
export class RefusalAudit {
  readonly #options: Required<Omit<RefusalAuditOptions, "now">> & { readonly now: () => number };
  #windowStart: number;
  #written = 0;
  #overflow: { count: number; from: number; to: number } | undefined;

  constructor(options: RefusalAuditOptions) {
    this.#options = {
      agent: options.agent,
      emit: options.emit,
      perWindow: options.perWindow ?? 32,
      windowMs: options.windowMs ?? 60_000,
      now: options.now ?? Date.now,
    };
    this.#windowStart = this.#options.now();
  }

  note(refusal: AgentRefusal): void {
    const now = this.#options.now();
    if (now - this.#windowStart >= this.#options.windowMs) this.flush();
    if (this.#written < this.#options.perWindow) {
      this.#written += 1;
      this.#options.emit({
        type: "agent_api.refused",
        agent: this.#options.agent,
        method: cutToBytes(refusal.method, 16),
        path: cutToBytes(refusal.path),
        code: refusal.code,
        reason: cutToBytes(refusal.reason),
      });
      return;
    }
    if (this.#overflow === undefined) this.#overflow = { count: 0, from: now, to: now };
    this.#overflow.count += 1;
    this.#overflow.to = now;
  }

  /** Writes the count of the window's unwritten refusals, if any, and starts a new window. */
  flush(): void {
    const overflow = this.#overflow;
    this.#overflow = undefined;
    this.#written = 0;
    this.#windowStart = this.#options.now();
    if (overflow === undefined) return;
    this.#options.emit({
      type: "agent_api.refused",
      agent: this.#options.agent,
      count: overflow.count,
      from: new Date(overflow.from).toISOString(),
      to: new Date(overflow.to).toISOString(),
      reason: `more refusals than the ${this.#options.perWindow} a window writes one by one`,
    });
  }
}
