/**
 * Text from the server may come from an agent: control and bidi characters are shown escaped, so
 * nothing it wrote can move the cursor or reorder what the human reads before approving.
 */
export function terminalSafe(value: unknown): string {
  return String(value).replace(
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A change as the API returns it. */
export interface ChangeView {
  readonly id: string;
  readonly kind: string;
  readonly agent: string;
  readonly payload: unknown;
  readonly digest: string;
  readonly requester: string;
  readonly submittedAt: string;
  readonly expiresAt: string;
  readonly state: string;
  readonly held: boolean;
  readonly decidedBy?: string;
  readonly reason?: string;
  readonly applyError?: string;
}

const LABELS: Record<string, string> = {
  pending: "HELD",
  approved: "APPROVED",
  applied: "APPLIED",
  apply_failed: "APPLY FAILED",
  rejected: "REJECTED",
  cancelled: "CANCELLED",
  expired: "EXPIRED",
};

export function stateLabel(state: string): string {
  return LABELS[state] ?? state.toUpperCase();
}

export function renderChangeLine(change: ChangeView): string {
  const cells = [
    change.id,
    stateLabel(change.state),
    change.kind,
    change.agent,
    change.requester,
    change.submittedAt,
  ];
  return `${cells.map(terminalSafe).join("\t")}\n`;
}

export function renderChange(change: ChangeView, options: { readonly payload?: boolean } = {}): string {
  const lines = [
    `${stateLabel(change.state)}  ${change.id}  ${change.kind} for agent ${change.agent}`,
    `  requested by  ${change.requester} at ${change.submittedAt}`,
    `  digest        ${change.digest}`,
  ];
  if (change.held) lines.push(`  expires       ${change.expiresAt}`);
  if (change.decidedBy !== undefined) lines.push(`  decided by    ${change.decidedBy}`);
  if (change.reason !== undefined) lines.push(`  reason        ${change.reason}`);
  if (change.applyError !== undefined) lines.push(`  apply error   ${change.applyError}`);
  if (options.payload === true) {
    lines.push(
      "  payload:",
      ...JSON.stringify(change.payload, null, 2)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  return `${lines.map(terminalSafe).join("\n")}\n`;
}

const SHOWN_FIELDS = ["id", "kind", "agent", "by", "reason", "requester", "remote", "path"] as const;

export function renderAuditRecord(record: Record<string, unknown>): string {
  const fields = SHOWN_FIELDS.filter((f) => record[f] !== undefined).map((f) => `${f}=${String(record[f])}`);
  return `  ${terminalSafe(`#${String(record.seq)}  ${String(record.time)}  ${String(record.type)}  ${fields.join(" ")}`)}\n`;
}
