import type {
  ArtifactDigests,
  AttestationPolicy,
  AttestationVerification,
  InspectedBundle,
  StatementReport,
  StatementSigner,
} from "@ironclaw/verify/attestation";
import { describeDigests } from "@ironclaw/verify/attestation";
import type { TrustedRootDescription } from "@ironclaw/verify/sigstore";
import { palette } from "../terminal/color.js";

export const ATTESTATION_VERIFY_SCHEMA = "https://ironclaw.dev/schemas/attestation-verify/v1";
export const ATTESTATION_INSPECT_SCHEMA = "https://ironclaw.dev/schemas/attestation-inspect/v1";

export interface VerificationReportContext {
  readonly artifact: string;
  /** What the artifact was matched with: sha256 and sha512 of a file, or the one digest given. */
  readonly digests: ArtifactDigests;
  readonly bundle: string;
  /** The root the statements were verified under, as reports name it. */
  readonly trustedRoot: TrustedRootDescription;
}

/** The digest named first in reports (sha256 when known), kept for readers of the v1 document. */
function primaryDigest(digests: ArtifactDigests): { digestAlgorithm: string; digest: string } {
  const algorithm = digests.sha256 !== undefined ? "sha256" : "sha512";
  return { digestAlgorithm: algorithm, digest: digests[algorithm] ?? "" };
}

const MARK = { verified: "✓", failed: "✗", "other-artifact": "-" } as const;
const LABEL = { verified: "verified", failed: "FAILED", "other-artifact": "other artifact" } as const;

function signerParts(signer: StatementSigner | undefined, verified: boolean): string[] {
  if (signer === undefined) return [];
  const unverified = verified ? "" : " (unverified)";
  const parts = [`signer ${signer.workflow}${unverified}`];
  if (signer.sourceRepository !== undefined) parts.push(`repository ${signer.sourceRepository}`);
  if (signer.sourceRef !== undefined) parts.push(`ref ${signer.sourceRef}`);
  if (signer.sourceCommit !== undefined) parts.push(`commit ${signer.sourceCommit}`);
  if (signer.runnerEnvironment !== undefined) parts.push(`runner ${signer.runnerEnvironment}`);
  if (signer.runInvocationUri !== undefined) parts.push(`run ${signer.runInvocationUri}`);
  return parts;
}

/** One line per statement: its verdict, why, and who signed it, where and when. */
export function statementLine(statement: StatementReport): string {
  const parts: string[] = [];
  if (statement.failure !== undefined) parts.push(`${statement.failure.code}: ${statement.failure.message}`);
  const subjects = statement.subjects.map((subject) => subject.name || "(unnamed)");
  if (subjects.length > 0) parts.push(`subject ${subjects.join(", ")}`);
  parts.push(...signerParts(statement.signer, statement.signatureVerified));
  for (const entry of statement.logEntries) {
    parts.push(
      `log index ${entry.logIndex}${entry.integratedTime === undefined ? "" : ` at ${entry.integratedTime.toISOString()}`}`,
    );
  }
  for (const stamp of statement.unverifiedTimestamps) {
    parts.push(`RFC 3161 timestamp ${stamp.index} NOT verified, not counted (${stamp.reason})`);
  }
  if (statement.provenance?.crossChecked === false) {
    parts.push(`predicate not cross-checked (build type ${statement.provenance.buildType ?? "absent"})`);
  }
  return `${MARK[statement.verdict]} line ${statement.line} ${LABEL[statement.verdict]}: ${parts.join("; ")}`;
}

export function renderVerification(
  result: AttestationVerification,
  context: VerificationReportContext,
  useColor: boolean,
): string {
  const colors = palette(useColor);
  const lines = [
    `Attestations for ${context.artifact} (${describeDigests(context.digests)}) in ${context.bundle}:`,
    `trusted root: ${context.trustedRoot.name}${context.trustedRoot.newestKeyFrom === undefined ? "" : ` (newest key from ${context.trustedRoot.newestKeyFrom})`}`,
  ];
  for (const statement of result.statements) {
    const line = statementLine(statement);
    lines.push(
      statement.verdict === "verified"
        ? colors.ok(line)
        : statement.verdict === "failed"
          ? colors.bad(line)
          : colors.dim(line),
    );
  }
  const verdict = result.ok ? colors.ok("Verified") : colors.bad("NOT verified");
  lines.push(`${verdict}: ${result.summary}`);
  return `${lines.join("\n")}\n`;
}

export function verificationDocument(
  result: AttestationVerification,
  policy: AttestationPolicy,
  context: VerificationReportContext,
) {
  return {
    schema: ATTESTATION_VERIFY_SCHEMA,
    ok: result.ok,
    summary: result.summary,
    artifact: { name: context.artifact, ...primaryDigest(context.digests), digests: context.digests },
    bundle: context.bundle,
    trustedRoot: context.trustedRoot,
    requireAll: result.requireAll,
    policy: policyDocument(policy),
    counts: result.counts,
    statements: result.statements,
  };
}

/** The policy as applied, with matchers written out rather than as RegExp objects. */
function policyDocument(policy: AttestationPolicy) {
  const { signer } = policy;
  return {
    ...policy,
    signer:
      signer.kind === "identity"
        ? signer.matcher.kind === "exact"
          ? { kind: "identity", exact: signer.matcher.value }
          : { kind: "identity", anchoredRegexp: `^(?:${signer.matcher.source})$` }
        : signer,
  };
}

export function renderInspection(inspected: readonly InspectedBundle[], file: string): string {
  const lines = [`${file}: ${inspected.length} bundle(s); nothing below is verified`];
  for (const bundle of inspected) {
    lines.push(
      `line ${bundle.line}: ${bundle.content === "dsse" ? `DSSE ${bundle.payloadType}` : "message signature"} (${bundle.mediaType})`,
    );
    if (bundle.statementType !== undefined) lines.push(`  statement  ${bundle.statementType}`);
    if (bundle.predicateType !== undefined) lines.push(`  predicate  ${bundle.predicateType}`);
    for (const subject of bundle.subjects ?? []) {
      const digests = Object.entries(subject.digest).map(([algorithm, value]) => `${algorithm}:${value}`);
      lines.push(`  subject    ${subject.name || "(unnamed)"} ${digests.join(" ")}`);
    }
    if (bundle.statementProblem !== undefined) lines.push(`  problem    ${bundle.statementProblem}`);
    for (const part of signerParts(bundle.signer, false)) {
      const [label = "", ...value] = part.split(" ");
      lines.push(`  ${label.padEnd(10)} ${value.join(" ")}`);
    }
    for (const entry of bundle.logEntries) {
      const time =
        entry.integratedTime === undefined ? "" : `, integrated ${entry.integratedTime.toISOString()}`;
      lines.push(`  log entry  index ${entry.logIndex} (${entry.kind} ${entry.version}${time})`);
    }
    if (bundle.timestampAuthorityStamps > 0)
      lines.push(`  timestamps ${bundle.timestampAuthorityStamps} from a timestamp authority`);
  }
  return `${lines.join("\n")}\n`;
}

export function inspectDocument(inspected: readonly InspectedBundle[], file: string) {
  return { schema: ATTESTATION_INSPECT_SCHEMA, file, verified: false, bundles: inspected };
}
