import { GatewayError } from "../errors.js";
import type { JsonObject } from "../json.js";
import type { Role } from "../principal.js";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../registry.js";
import { type Change, type ChangeState, TRANSITIONS } from "./change.js";
import type { ChangeKind } from "./kinds.js";

/** The event types that move a change, and the state each moves it to. */
const STATE_BY_EVENT: { readonly [type: string]: ChangeState } = {
  "change.approved": "approved",
  "change.rejected": "rejected",
  "change.cancelled": "cancelled",
  "change.expired": "expired",
  "change.applied": "applied",
  "change.apply_failed": "apply_failed",
};

interface FoldRecord {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Everything the gateway knows, derived from the log alone. */
export class GatewayState {
  #registry: Registry = EMPTY_REGISTRY;
  readonly #changes = new Map<string, Change>();
  #submitted = 0;

  get registry(): Registry {
    return this.#registry;
  }

  get submittedCount(): number {
    return this.#submitted;
  }

  change(id: string): Change | undefined {
    return this.#changes.get(id);
  }

  changes(): IterableIterator<Change> {
    return this.#changes.values();
  }

  /** Folds one record. A record that breaks the lifecycle means the log was forged: refuse it. */
  fold(record: FoldRecord): void {
    if (record.type === "change.submitted") {
      const id = record.id as string;
      if (this.#changes.has(id)) throw corrupt(record, `change ${id} is submitted twice`);
      this.#submitted += 1;
      this.#changes.set(id, {
        id,
        kind: record.kind as ChangeKind,
        agent: record.agent as string,
        payload: record.payload as JsonObject,
        digest: record.digest as string,
        requester: record.requester as string,
        requesterRole: record.requesterRole as Role,
        submittedAt: record.time,
        expiresAt: record.expiresAt as string,
        state: "pending",
        applyAttempts: 0,
      });
      return;
    }
    const next = STATE_BY_EVENT[record.type];
    if (next === undefined) return;
    const id = record.id as string;
    const change = this.#changes.get(id);
    if (change === undefined) throw corrupt(record, `${record.type} names unknown change ${id}`);
    if (!TRANSITIONS[change.state].includes(next)) {
      throw corrupt(record, `change ${id} cannot go from ${change.state} to ${next}`);
    }
    let updated: Change = { ...change, state: next };
    if (change.state === "pending") {
      updated = {
        ...updated,
        decidedBy: (record.by as string | undefined) ?? "gateway",
        decidedAt: record.time,
      };
      if (typeof record.reason === "string") updated = { ...updated, reason: record.reason };
    }
    if (next === "applied" || next === "apply_failed") {
      updated = { ...updated, applyAttempts: change.applyAttempts + 1 };
      if (next === "applied") {
        const { applyError: _dropped, ...rest } = updated;
        updated = { ...rest, appliedAt: record.time };
        this.#registry = foldRegistry(this.#registry, {
          ...record,
          kind: change.kind,
          payload: change.payload,
        });
      } else {
        updated = { ...updated, applyError: String(record.reason ?? "unknown") };
      }
    }
    this.#changes.set(id, Object.freeze(updated));
  }
}

function corrupt(record: FoldRecord, message: string): GatewayError {
  return new GatewayError("IC_AUDIT_CORRUPT", `${message}; the log does not follow the change lifecycle`, {
    record: record.seq,
  });
}
