import { domainToUnicode } from "node:url";

/**
 * Text from the server may come from an agent: whatever a terminal would not show as itself is
 * escaped (controls, format characters such as zero-width, bidi and tag characters, private-use and
 * unassigned code points, lone surrogates, line separators), so nothing it wrote can hide, move the
 * cursor or reorder what the human reads before approving.
 */
export function terminalSafe(value: unknown): string {
  return String(value).replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/gu, (c) => {
    const code = c.codePointAt(0) as number;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Each A-label host (xn--…) in a payload, with the Unicode it stands for, so the approver sees both. */
function aLabelHosts(payload: unknown): string[] {
  const hosts = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const match of value.matchAll(/(?:[a-z0-9-]+\.)*xn--[a-z0-9-]+(?:\.[a-z0-9-]+)*/gi))
        hosts.add(match[0]);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === "object" && value !== null) Object.values(value).forEach(visit);
  };
  visit(payload);
  return [...hosts].map(
    (host) => `  host          ${host} is ${domainToUnicode(host) || "(not a valid A-label)"}`,
  );
}

export const UNATTESTED = "UNATTESTED: no provenance";

/**
 * Each package of a `packages` change on its own line, with what vouches for it: the repository its
 * provenance names, or, in capitals, that it has none and the change says so (allowUnattested).
 */
function packageLines(kind: string, payload: unknown): string[] {
  const list = kind === "packages" ? ownField(payload, "packages") : undefined;
  if (!Array.isArray(list)) return [];
  return list.map((item: unknown) => {
    const label = `${String(ownField(item, "name"))}@${String(ownField(item, "version"))}`;
    return ownField(item, "allowUnattested") === true
      ? `  package       ${label}  ${UNATTESTED}`
      : `  package       ${label}  provenance from ${String(ownField(item, "repository"))}, integrity ${String(ownField(item, "integrity"))}`;
  });
}

function ownField(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
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
  /** A skills change: what each skill needs, from its verified SKILL.md, and which tools the agent lacks. */
  readonly skills?: readonly {
    readonly name: string;
    readonly version: string;
    readonly description: string | null;
    readonly tools: readonly string[];
    readonly missingTools: readonly string[];
  }[];
}

/** Per skill: what it is, the tools it needs, and in capitals those the agent does not have. */
function skillLines(change: ChangeView): string[] {
  const lines: string[] = [];
  for (const skill of change.skills ?? []) {
    lines.push(`  skill         ${skill.name} ${skill.version}: ${skill.description ?? "(not verified)"}`);
    lines.push(`  needs tools   ${skill.tools.length === 0 ? "(none)" : skill.tools.join(", ")}`);
    if (skill.missingTools.length > 0) {
      lines.push(
        `  NOT ENABLED   ${skill.missingTools.join(", ")} for ${change.agent}: a skill grants nothing; enabling them takes changes of their own`,
      );
    }
  }
  return lines;
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

export const CHANGE_LIST_HEADER = "ID\tSTATE\tKIND\tAGENT\tREQUESTER\tSUBMITTED\tDIGEST\n";

/** One line per change, the digest last: what `changes approve ID --digest` takes. */
export function renderChangeLine(change: ChangeView): string {
  const cells = [
    change.id,
    stateLabel(change.state),
    change.kind,
    change.agent,
    change.requester,
    change.submittedAt,
    change.digest,
  ];
  return `${cells.map(terminalSafe).join("\t")}\n`;
}

export function renderChange(change: ChangeView, options: { readonly payload?: boolean } = {}): string {
  const lines = [
    `${stateLabel(change.state)}  ${change.id}  ${change.kind} for agent ${change.agent}`,
    `  requested by  ${change.requester} at ${change.submittedAt}`,
    `  digest        ${change.digest}`,
  ];
  lines.push(...packageLines(change.kind, change.payload));
  if (change.held) lines.push(`  expires       ${change.expiresAt}`);
  if (change.decidedBy !== undefined) lines.push(`  decided by    ${change.decidedBy}`);
  if (change.reason !== undefined) lines.push(`  reason        ${change.reason}`);
  if (change.applyError !== undefined) lines.push(`  apply error   ${change.applyError}`);
  lines.push(...skillLines(change));
  if (options.payload === true) {
    lines.push(
      ...aLabelHosts(change.payload),
      "  payload:",
      ...JSON.stringify(change.payload, null, 2)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  return `${lines.map(terminalSafe).join("\n")}\n`;
}

const SHOWN_FIELDS = ["id", "kind", "agent", "by", "reason", "requester", "remote", "count", "path"] as const;

export function renderAuditRecord(record: Record<string, unknown>): string {
  const fields = SHOWN_FIELDS.filter((f) => record[f] !== undefined).map((f) => `${f}=${String(record[f])}`);
  return `  ${terminalSafe(`#${String(record.seq)}  ${String(record.time)}  ${String(record.type)}  ${fields.join(" ")}`)}\n`;
}
