import type { FulcioExtensions, SignatureVerification } from "@ironclaw/verify/sigstore";

export const VERIFY_BUNDLE_SCHEMA = "https://ironclaw.dev/schemas/verify-bundle/v1";

export interface SignatureReportContext {
  readonly bundle: string;
  readonly artifact: string | null;
}

const EXTENSION_LABELS: ReadonlyArray<[keyof FulcioExtensions, string]> = [
  ["sourceRepositoryUri", "repository"],
  ["sourceRepositoryRef", "ref"],
  ["sourceRepositoryDigest", "commit"],
  ["buildSignerUri", "workflow"],
  ["runnerEnvironment", "runner"],
  ["runInvocationUri", "run"],
];

/** Success is never silent: who signed, when, and which log holds it. */
export function renderSignatureReport(
  result: SignatureVerification,
  context: SignatureReportContext,
): string {
  const lines = [`Verified OK: ${context.artifact ?? `sha256:${result.artifactSha256}`}`];
  if (result.signer.kind === "certificate") {
    lines.push(`  signer      ${result.signer.subjectAlternativeName}`);
    lines.push(`  issuer      ${result.signer.issuer}`);
    for (const [key, label] of EXTENSION_LABELS) {
      const value = result.signer.extensions[key];
      if (value !== undefined) lines.push(`  ${label.padEnd(11)} ${value}`);
    }
  } else {
    lines.push("  signer      the public key given with --key");
  }
  for (const entry of result.transparencyLog) {
    const time =
      entry.integratedTime === undefined ? "" : `, integrated ${entry.integratedTime.toISOString()}`;
    lines.push(`  log entry   index ${entry.logIndex} (${entry.kind} ${entry.version}${time})`);
  }
  for (const stamp of result.timestamps.filter((t) => t.source === "timestamp-authority")) {
    lines.push(`  timestamp   ${stamp.time.toISOString()} (timestamp authority)`);
  }
  for (const stamp of result.unverifiedTimestamps) {
    const time = stamp.time === undefined ? "" : ` ${stamp.time.toISOString()}`;
    lines.push(`  timestamp  ${time} (timestamp authority) NOT verified, not counted: ${stamp.reason}`);
  }
  lines.push(`  trusted by  ${result.trustedRoot}`);
  return `${lines.join("\n")}\n`;
}

export function signatureReportDocument(result: SignatureVerification, context: SignatureReportContext) {
  return {
    schema: VERIFY_BUNDLE_SCHEMA,
    ok: true,
    bundle: context.bundle,
    artifact: { path: context.artifact, sha256: result.artifactSha256 },
    format: result.format,
    mediaType: result.mediaType,
    content:
      result.content.kind === "dsse"
        ? { kind: "dsse", payloadType: result.content.payloadType }
        : { kind: "message-signature" },
    signer: result.signer,
    transparencyLog: result.transparencyLog,
    timestamps: result.timestamps,
    unverifiedTimestamps: result.unverifiedTimestamps,
    trustedRoot: result.trustedRoot,
  };
}
