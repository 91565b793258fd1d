import type { GatewayError } from "../errors.js";
import { peerMessageProblem } from "../grants.js";
import type { JsonObject } from "../json.js";
import type { Role } from "../principal.js";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../registry.js";
import { type Change, type ChangeState, TRANSITIONS } from "./change.js";
import type { ChangeKind } from "./kinds.js";
import { checkSubmission, checkTransition, lifecycleError, PrincipalBook } from "./lifecycle.js";

/** The event types that move a change, and the state each moves it to. */
const STATE_BY_EVENT: ReadonlyMap<string, ChangeState> = new Map([
  ["change.approved", "approved"],
  ["change.rejected", "rejected"],
  ["change.cancelled", "cancelled"],
  ["change.expired", "expired"],
  ["change.applied", "applied"],
  ["change.apply_failed", "apply_failed"],
]);

interface FoldRecord {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** A message to or from an agent: its instructions in, its reports out. */
export interface AgentMessage {
  readonly seq: number;
  readonly time: string;
  readonly agent: string;
  readonly direction: "in" | "out";
  readonly from: string;
  readonly text: string;
}

/** Each agent keeps this many messages each way; older ones stay only in the log. */
const MAILBOX_LIMIT = 1000;

/** Written in `gateway.started` by gateways that record principals: from there on, authors must be recorded. */
export const LIFECYCLE_VERSION = 2;

/** The record types the fold reads; every other record is verified by the chain and otherwise skipped. */
export function foldsRecordType(type: string): boolean {
  return (
    type === "agent.message" ||
    type === "principal.recorded" ||
    type === "gateway.started" ||
    (type.startsWith("change.") && type !== "change.refused")
  );
}

/** Everything the gateway knows, derived from the log alone. */
export class GatewayState {
  #registry: Registry = EMPTY_REGISTRY;
  readonly #changes = new Map<string, Change>();
  #submitted = 0;
  /** Pending changes: by id, counted per agent, and in order of their deadlines. */
  readonly #pending = new Map<string, Change>();
  readonly #pendingPerRequester = new Map<string, number>();
  readonly #deadlines: { readonly id: string; readonly at: number }[] = [];
  readonly #pendingNewAgents = new Set<string>();
  readonly #mailboxes = new Map<string, AgentMessage[]>();
  readonly #principals = new PrincipalBook();
  /** The seq of the last change.submitted record, and the changes an operator retried since they failed. */
  #lastSubmission = { seq: 0, id: "" };
  readonly #retried = new Set<string>();

  get registry(): Registry {
    return this.#registry;
  }

  /** The role the log recorded for a principal id, if any. */
  principalRole(id: string): Role | undefined {
    return this.#principals.roleOf(id);
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

  pending(): IterableIterator<Change> {
    return this.#pending.values();
  }

  /** Names that a pending create_agent change would take. */
  get pendingNewAgents(): ReadonlySet<string> {
    return this.#pendingNewAgents;
  }

  /** Pending changes asked for by this principal id. */
  pendingBy(requester: string): number {
    return this.#pendingPerRequester.get(requester) ?? 0;
  }

  get pendingTotal(): number {
    return this.#pending.size;
  }

  /** Ids of pending changes whose deadline is at or before `now`, without scanning the others. */
  due(now: number): string[] {
    while (this.#deadlines.length > 0 && !this.#pending.has((this.#deadlines[0] as { id: string }).id)) {
      this.#deadlines.shift();
    }
    const due: string[] = [];
    for (const { id, at } of this.#deadlines) {
      if (at > now) break;
      if (this.#pending.has(id)) due.push(id);
    }
    return due;
  }

  #track(change: Change): void {
    const count = this.#pendingPerRequester.get(change.requester) ?? 0;
    if (change.state === "pending") {
      this.#pending.set(change.id, change);
      this.#pendingPerRequester.set(change.requester, count + 1);
      if (change.kind === "create_agent") this.#pendingNewAgents.add(change.agent);
      const at = Date.parse(change.expiresAt);
      // Deadlines come in order unless the TTL changed between runs: then insert in place.
      let index = this.#deadlines.length;
      while (index > 0 && (this.#deadlines[index - 1] as { at: number }).at > at) index -= 1;
      this.#deadlines.splice(index, 0, { id: change.id, at });
    } else if (this.#pending.delete(change.id)) {
      if (change.kind === "create_agent") this.#pendingNewAgents.delete(change.agent);
      if (count <= 1) this.#pendingPerRequester.delete(change.requester);
      else this.#pendingPerRequester.set(change.requester, count - 1);
    }
  }

  /** Messages for or from an agent after a log position, oldest first. */
  messages(agent: string, direction: "in" | "out", after: number): AgentMessage[] {
    return (this.#mailboxes.get(`${direction}:${agent}`) ?? []).filter((m) => m.seq > after);
  }

  #known(record: FoldRecord): Change {
    const change = typeof record.id === "string" ? this.#changes.get(record.id) : undefined;
    if (change === undefined)
      throw corrupt(record, `${record.type} names unknown change ${String(record.id)}`);
    return change;
  }

  /** Folds one record. A record that breaks the lifecycle means the log was forged: refuse it. */
  fold(record: FoldRecord): void {
    if (record.type === "agent.message") {
      const message: AgentMessage = Object.freeze({
        seq: record.seq,
        time: record.time,
        agent: record.agent as string,
        direction: record.direction as "in" | "out",
        from: record.from as string,
        text: record.text as string,
      });
      // A message from an agent into another's inbox was allowed by the registry at this point of the
      // log, or the live gateway would not have written it.
      if (message.direction === "in" && message.from.startsWith("agent:")) {
        const problem = peerMessageProblem(
          this.#registry,
          message.from.slice("agent:".length),
          message.agent,
        );
        if (problem !== undefined) {
          throw corrupt(
            record,
            `a message from ${message.from} to ${message.agent} that was not allowed: ${problem}`,
          );
        }
      }
      const key = `${message.direction}:${message.agent}`;
      const box = this.#mailboxes.get(key) ?? [];
      box.push(message);
      if (box.length > MAILBOX_LIMIT) box.shift();
      this.#mailboxes.set(key, box);
      return;
    }
    if (record.type === "principal.recorded") {
      this.#principals.record(record);
      return;
    }
    if (record.type === "gateway.started") {
      if (record.lifecycle === LIFECYCLE_VERSION) this.#principals.enforce();
      return;
    }
    if (record.type === "change.submitted") {
      const id = record.id as string;
      if (this.#changes.has(id)) throw corrupt(record, `change ${id} is submitted twice`);
      checkSubmission(record, `c${this.#submitted + 1}`, this.#principals);
      this.#lastSubmission = { seq: record.seq, id };
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
      this.#track(this.#changes.get(id) as Change);
      return;
    }
    if (record.type === "change.retried" || record.type === "change.approval_refused") {
      const change = this.#known(record);
      const [from, action] =
        record.type === "change.retried"
          ? (["apply_failed", "retry"] as const)
          : (["pending", "approve"] as const);
      this.#principals.require(record, record.by, ["operator"], `${action} ${change.id}`);
      if (change.state !== from)
        throw corrupt(record, `${record.type} for ${change.id}, which is ${change.state}`);
      if (record.type === "change.retried") this.#retried.add(change.id);
      return;
    }
    const next = STATE_BY_EVENT.get(record.type);
    if (next === undefined) return;
    const change = this.#known(record);
    const id = change.id;
    if (!TRANSITIONS[change.state].includes(next)) {
      throw corrupt(record, `change ${id} cannot go from ${change.state} to ${next}`);
    }
    const justSubmitted = this.#lastSubmission.id === id && this.#lastSubmission.seq === record.seq - 1;
    checkTransition(record, change, this.#principals, justSubmitted, this.#retried.has(id));
    this.#retried.delete(id);
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
        try {
          this.#registry = foldRegistry(this.#registry, {
            ...record,
            kind: change.kind,
            payload: change.payload,
          });
        } catch (error) {
          // The live gateway folds before it records, so an applied record that cannot fold was forged.
          throw corrupt(record, error instanceof Error ? error.message : String(error));
        }
      } else {
        updated = { ...updated, applyError: String(record.reason ?? "unknown") };
      }
    }
    this.#changes.set(id, Object.freeze(updated));
    this.#track(updated);
  }
}

function corrupt(record: FoldRecord, message: string): GatewayError {
  return lifecycleError(record, message);
}
