import { GatewayError } from "../errors.js";
import type { Role } from "../principal.js";
import { type Change, changeDigest } from "./change.js";
import { isChangeKind } from "./kinds.js";
import { VERIFIERS } from "./verifiers.js";

/**
 * What a log record must satisfy to be folded: the checks the live gateway makes before it writes one,
 * made again when the log is read. A record appended by hand after the last checkpoint therefore has to
 * be a record the gateway itself could have written, or `up` and `audit verify` refuse it by number.
 */
export interface LifecycleRecord {
  readonly seq: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

const ROLES: readonly Role[] = ["operator", "viewer", "agent"];
const VERIFIER_NAMES = new Set(VERIFIERS.map((v) => `verifier:${v.name}`));

export function lifecycleError(record: { readonly seq: number }, message: string): GatewayError {
  return new GatewayError("IC_AUDIT_CORRUPT", `${message}; the log does not follow the change lifecycle`, {
    record: record.seq,
  });
}

/** The principals the log itself has recorded, by id, and who may author which record. */
export class PrincipalBook {
  readonly #roles = new Map<string, Role>();
  /**
   * Logs begun before principals were recorded hold none: their records are read as before (who acted is
   * learned from the records themselves) until the first start of a gateway that records them
   * (`gateway.started` with `lifecycle: 2`) or the first `principal.recorded`. From there on, and in every
   * log begun since, each author must be recorded. Appending to a log cannot undo that: it only ever
   * starts strict or turns strict.
   */
  #strict = false;

  enforce(): void {
    this.#strict = true;
  }

  /** Before strictness: remember `id`'s role as a legacy record shows it, unless already known. */
  #learn(id: unknown, role: unknown): void {
    if (this.#strict || typeof id !== "string" || id === "" || !ROLES.includes(role as Role)) return;
    if (!this.#roles.has(id)) this.#roles.set(id, role as Role);
  }

  /** A legacy submission tells its requester's role. */
  learnRequester(id: unknown, role: unknown): void {
    this.#learn(id, role);
  }

  roleOf(id: string): Role | undefined {
    return this.#roles.get(id);
  }

  /** A `principal.recorded` record: an id keeps its role for the life of the log. */
  record(record: LifecycleRecord): void {
    const { id, role } = record;
    if (typeof id !== "string" || id === "" || !ROLES.includes(role as Role)) {
      throw lifecycleError(record, "a principal.recorded record needs a string id and a known role");
    }
    const known = this.#roles.get(id);
    if (known !== undefined && known !== role) {
      throw lifecycleError(record, `principal ${id} was recorded as ${known}, now as ${String(role)}`);
    }
    this.#roles.set(id, role as Role);
    this.enforce();
  }

  /** Throws unless `by` is a principal the log recorded with one of `roles`. */
  require(record: LifecycleRecord, by: unknown, roles: readonly Role[], action: string): string {
    this.#learn(by, roles[0]);
    const role = typeof by === "string" ? this.#roles.get(by) : undefined;
    if (role === undefined || !roles.includes(role)) {
      throw lifecycleError(
        record,
        `${record.type} by ${JSON.stringify(by)}, who is not a recorded ${roles.join(" or ")} principal, cannot ${action}`,
      );
    }
    return by as string;
  }
}

/** Checks a `change.submitted` record as `Gateway.submit` built it. */
export function checkSubmission(
  record: LifecycleRecord,
  expectedId: string,
  principals: PrincipalBook,
): void {
  const { id, kind, agent, payload, digest, requester, requesterRole } = record;
  if (id !== expectedId)
    throw lifecycleError(record, `expected change ${expectedId} next, found ${String(id)}`);
  if (!isChangeKind(kind)) throw lifecycleError(record, `change ${id} has no known kind`);
  principals.learnRequester(requester, requesterRole);
  principals.require(record, requester, ["operator", "agent"], "submit changes");
  if (principals.roleOf(requester as string) !== requesterRole) {
    throw lifecycleError(record, `change ${id}'s requesterRole is not ${String(requester)}'s recorded role`);
  }
  // Not the payload schema: schemas tighten between versions, and a log must never stop opening
  // because text accepted then is refused now. The digest below binds whatever the payload is.
  if (
    typeof payload !== "object" ||
    payload === null ||
    Array.isArray(payload) ||
    typeof agent !== "string" ||
    (payload as { agent?: unknown }).agent !== agent
  ) {
    throw lifecycleError(record, `change ${id}'s payload is not an object for agent ${String(agent)}`);
  }
  const expected = changeDigest({ id, kind, payload: payload as never, requester: requester as string });
  if (digest !== expected)
    throw lifecycleError(record, `change ${id}'s digest is not the digest of its content`);
}

/**
 * Checks who moved a change and with what; the state machine itself is checked by the caller.
 * `submittedJustBefore`: the change's submission is the record right before this one.
 */
export function checkTransition(
  record: LifecycleRecord,
  change: Change,
  principals: PrincipalBook,
  submittedJustBefore: boolean,
  retried: boolean,
): void {
  const id = change.id;
  switch (record.type) {
    case "change.approved":
      principals.require(record, record.by, ["operator"], `approve ${id}`);
      if (record.digest !== change.digest) {
        throw lifecycleError(
          record,
          `the approval of ${id} names digest ${String(record.digest)}, not ${change.digest}`,
        );
      }
      return;
    case "change.rejected":
      if (typeof record.by === "string" && VERIFIER_NAMES.has(record.by)) {
        // A verifier refuses only in the same step as the submission, never later.
        if (!submittedJustBefore)
          throw lifecycleError(record, `${record.by} rejected ${id} after its submission`);
        return;
      }
      principals.require(record, record.by, ["operator"], `reject ${id}`);
      return;
    case "change.cancelled": {
      const by = principals.require(record, record.by, ["operator", "agent"], `cancel ${id}`);
      if (principals.roleOf(by) === "agent" && by !== change.requester) {
        throw lifecycleError(record, `${by} cancelled ${id}, which it did not ask for`);
      }
      return;
    }
    case "change.applied":
      if (record.digest !== change.digest) {
        throw lifecycleError(
          record,
          `the application of ${id} names digest ${String(record.digest)}, not ${change.digest}`,
        );
      }
      if (change.state === "apply_failed" && !retried) {
        throw lifecycleError(record, `${id} was applied after a failure without an operator's retry`);
      }
      return;
    case "change.apply_failed":
      if (change.state === "apply_failed" && !retried) {
        throw lifecycleError(record, `${id} failed again without an operator's retry`);
      }
      return;
    default:
      return;
  }
}
