/** Tokens used per agent per UTC day. The supervisor seeds it from today's `model.call` records. */
export interface UsageLedger {
  used(agent: string, day: string): number;
  add(agent: string, day: string, tokens: number): void;
}

/** The UTC day of a moment, as YYYY-MM-DD: budgets reset at midnight UTC. */
export function utcDay(at: Date = new Date()): string {
  return at.toISOString().slice(0, 10);
}

/** An in-memory ledger. Keys live in a Map, so no agent name can reach Object.prototype. */
export function createMemoryLedger(): UsageLedger {
  const days = new Map<string, number>();
  const key = (agent: string, day: string) => `${day}\u0000${agent}`;
  return {
    used: (agent, day) => days.get(key(agent, day)) ?? 0,
    add: (agent, day, tokens) => {
      if (!Number.isSafeInteger(tokens) || tokens < 0)
        throw new RangeError(`expected a token count, found ${tokens}`);
      days.set(key(agent, day), (days.get(key(agent, day)) ?? 0) + tokens);
    },
  };
}

/** The audit event of one call, success or failure. Never content. */
export interface ModelCallEvent {
  readonly type: "model.call";
  readonly agent: string;
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly durationMs: number;
  /** The HTTP status the agent was answered with. */
  readonly status: number;
  readonly code?: string;
  /** Set on the one record that stands for many refusals counted in a window (code IC_MODEL_REFUSALS_COUNTED). */
  readonly count?: number;
  readonly from?: string;
  readonly to?: string;
}

/**
 * Adds the tokens of audit records to a ledger, keyed by the day of each record's time: how the
 * supervisor rebuilds today's usage after a restart.
 */
export function seedLedger(
  ledger: UsageLedger,
  records: Iterable<{ readonly at: Date; readonly event: ModelCallEvent }>,
): void {
  for (const { at, event } of records) {
    if (event.type !== "model.call") continue;
    ledger.add(event.agent, utcDay(at), event.inputTokens + event.outputTokens);
  }
}
