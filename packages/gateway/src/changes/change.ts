import { createHash } from "node:crypto";
import type { JsonObject } from "../json.js";
import { canonicalJson } from "../log/canonical-json.js";
import type { Role } from "../principal.js";
import type { ChangeKind } from "./kinds.js";

export const CHANGE_STATES = [
  "pending",
  "approved",
  "rejected",
  "cancelled",
  "expired",
  "applied",
  "apply_failed",
] as const;

export type ChangeState = (typeof CHANGE_STATES)[number];

/** A change as the gateway holds it. The payload and digest never change after submission. */
export interface Change {
  readonly id: string;
  readonly kind: ChangeKind;
  readonly agent: string;
  readonly payload: JsonObject;
  readonly digest: string;
  readonly requester: string;
  readonly requesterRole: Role;
  readonly submittedAt: string;
  readonly expiresAt: string;
  readonly state: ChangeState;
  /** The principal id, or `verifier:<name>`, that moved it out of `pending`. */
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly reason?: string;
  readonly applyAttempts: number;
  readonly appliedAt?: string;
  readonly applyError?: string;
}

/**
 * What an approver binds to: the id, the kind, the exact payload and who asked. The same change
 * always has the same digest, so it can be shown, copied and compared.
 */
export function changeDigest(change: {
  readonly id: string;
  readonly kind: ChangeKind;
  readonly payload: JsonObject;
  readonly requester: string;
}): string {
  const canonical = canonicalJson({
    id: change.id,
    kind: change.kind,
    payload: change.payload,
    requester: change.requester,
  });
  return `sha256:${createHash("sha256").update(canonical).digest("hex")}`;
}

/** Which states a change may move to from each state; anything else is a conflict. */
export const TRANSITIONS: { readonly [S in ChangeState]: readonly ChangeState[] } = {
  pending: ["approved", "rejected", "cancelled", "expired"],
  approved: ["applied", "apply_failed"],
  apply_failed: ["applied", "apply_failed"],
  rejected: [],
  cancelled: [],
  expired: [],
  applied: [],
};

export function isFinished(state: ChangeState): boolean {
  return TRANSITIONS[state].length === 0;
}
