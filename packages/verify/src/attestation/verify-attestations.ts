import { isVerifyError, VerifyError, type VerifyErrorCode } from "../errors.js";
import type { ParsedBundle } from "../sigstore/bundle-document.js";
import { type FulcioExtensions, readFulcioExtensions } from "../sigstore/fulcio-extensions.js";
import {
  type ArtifactDigests,
  IN_TOTO_PAYLOAD_TYPE,
  type InTotoStatement,
  type InTotoSubject,
  parseInTotoStatement,
  SUBJECT_DIGEST_ALGORITHMS,
  subjectAlgorithms,
  subjectsMatching,
} from "../sigstore/in-toto.js";
import { subjectAlternativeName } from "../sigstore/subject-alternative-name.js";
import type { UnverifiedTimestamp } from "../sigstore/timestamps.js";
import type { LoadedTrustedRoot } from "../sigstore/trusted-root.js";
import {
  leafCertificate,
  type SignatureVerification,
  verifySignature,
} from "../sigstore/verify-signature.js";
import type { AttestationEntry } from "./container.js";
import { type AttestationPolicy, checkAttestationCertificate, SLSA_PROVENANCE_V1 } from "./policy.js";
import { checkProvenanceAgainstCertificate } from "./provenance.js";

export interface VerifyAttestationsOptions {
  readonly trustedRoot: LoadedTrustedRoot;
  readonly policy: AttestationPolicy;
  /**
   * The artifact's digests: both sha256 and sha512 of a file, so each subject is matched in the
   * algorithms it carries; one of them when only that is known (a digest argument, `--digest-alg`).
   */
  readonly artifact: { readonly digests: ArtifactDigests };
  /** `--all`: every statement about the artifact must verify, not just one. */
  readonly requireAll: boolean;
}

/** verified: good signature, names the artifact, satisfies the policy. other-artifact: names another artifact. */
export type StatementVerdict = "verified" | "failed" | "other-artifact";

/** What the certificate says about the signer, verified or not (see `signatureVerified`). */
export interface StatementSigner {
  readonly workflow: string;
  readonly issuer?: string;
  readonly sourceRepository?: string;
  readonly sourceRef?: string;
  readonly sourceCommit?: string;
  readonly signerDigest?: string;
  readonly runnerEnvironment?: string;
  readonly runInvocationUri?: string;
}

export interface StatementReport {
  readonly line: number;
  readonly verdict: StatementVerdict;
  readonly failure?: { readonly code: VerifyErrorCode; readonly message: string };
  readonly signatureVerified: boolean;
  readonly predicateType?: string;
  readonly subjects: readonly InTotoSubject[];
  readonly signer?: StatementSigner;
  readonly logEntries: readonly { readonly logIndex: string; readonly integratedTime?: Date }[];
  readonly timestamps: readonly { readonly source: string; readonly time: Date }[];
  /** RFC 3161 timestamps that did not verify and were not counted. */
  readonly unverifiedTimestamps: readonly UnverifiedTimestamp[];
  /** Whether a GitHub provenance predicate was compared with the certificate (and its build type). */
  readonly provenance?: { readonly crossChecked: boolean; readonly buildType?: string };
}

export interface AttestationVerification {
  readonly ok: boolean;
  readonly requireAll: boolean;
  readonly statements: readonly StatementReport[];
  readonly counts: {
    readonly total: number;
    readonly verified: number;
    readonly failed: number;
    readonly otherArtifact: number;
  };
  /** One sentence: why the whole answer is yes or no. */
  readonly summary: string;
}

/** Verifies every statement and reports each one; success needs one (or, with requireAll, all) to pass. */
export function verifyAttestations(
  entries: readonly AttestationEntry[],
  options: VerifyAttestationsOptions,
): AttestationVerification {
  if (entries.length === 0)
    throw new VerifyError("IC_ATTESTATION_EMPTY", "there are no attestations to verify");
  const statements = entries.map((entry) => verifyStatement(entry, options));
  const verified = statements.filter((s) => s.verdict === "verified").length;
  const otherArtifact = statements.filter((s) => s.verdict === "other-artifact").length;
  const failed = statements.length - verified - otherArtifact;
  const about = statements.length - otherArtifact;
  const ok = options.requireAll ? about > 0 && failed === 0 : verified > 0;
  const digest = describeDigests(options.artifact.digests);
  const summary =
    about === 0
      ? `no attestation names the artifact ${digest}`
      : ok
        ? `${verified} of ${about} statement(s) about the artifact verified${options.requireAll ? " (--all: every one)" : ""}`
        : options.requireAll && verified > 0
          ? `${failed} of ${about} statement(s) about the artifact failed, and --all requires every one to verify`
          : `none of the ${about} statement(s) about the artifact verified`;
  return {
    ok,
    requireAll: options.requireAll,
    statements,
    counts: { total: statements.length, verified, failed, otherArtifact },
    summary,
  };
}

function verifyStatement(
  { line, parsed }: AttestationEntry,
  options: VerifyAttestationsOptions,
): StatementReport {
  let report: Mutable<StatementReport> = {
    line,
    verdict: "failed",
    signatureVerified: false,
    subjects: [],
    logEntries: [],
    timestamps: [],
    unverifiedTimestamps: [],
  };
  let namesArtifact: boolean | undefined;
  try {
    const { statement, facts } = readEnvelope(parsed);
    report.subjects = statement.subjects;
    report.predicateType = statement.predicateType;
    namesArtifact = subjectsMatching(statement, options.artifact.digests).length > 0;
    if (facts !== undefined) report.signer = describeSigner(facts.subjectAlternativeName, facts.extensions);

    if (parsed.mediaType === BUNDLE_V01) {
      // As gh: a v0.1 bundle need not carry an inclusion proof, so attestations must be v0.2 or later.
      throw new VerifyError(
        "IC_BUNDLE_UNKNOWN_MEDIA_TYPE",
        `unsupported bundle version for an attestation: ${BUNDLE_V01}; attestations must be bundles v0.2 or later (gh attestation verify refuses v0.1 too)`,
      );
    }
    const signature = verifyEnvelopeOnce(parsed, options.trustedRoot);
    report = {
      ...report,
      signatureVerified: true,
      logEntries: signature.transparencyLog,
      timestamps: signature.timestamps,
      unverifiedTimestamps: signature.unverifiedTimestamps,
    };
    if (signature.signer.kind !== "certificate")
      throw new VerifyError("IC_POLICY_SIGNER_KIND", "the attestation is not signed by a certificate");

    if (!namesArtifact) {
      throw new VerifyError(
        "IC_ATTESTATION_SUBJECT_MISMATCH",
        `no subject has the artifact's digest ${describeDigests(options.artifact.digests)} (subjects: ${statement.subjects.map((s) => s.name || "(unnamed)").join(", ")}; they carry ${describeAlgorithms(statement)})`,
      );
    }
    const provenance = checkPolicyOnce(parsed, statement, signature.signer, options.policy);
    if (provenance !== undefined) report.provenance = provenance;
    return { ...report, verdict: "verified" };
  } catch (error) {
    const failure = isVerifyError(error)
      ? { code: error.code, message: error.message }
      : {
          code: "IC_SIGNATURE_FAILED" as const,
          message: `unexpected failure: ${error instanceof Error ? error.message : String(error)}`,
        };
    return { ...report, verdict: namesArtifact === false ? "other-artifact" : "failed", failure };
  }
}

/**
 * A statement's signature does not depend on the artifact or the policy, so a file verified for
 * several artifacts (a whole release) verifies each envelope once. Keyed by the parsed bundle.
 */
const verifiedEnvelopes = new WeakMap<
  ParsedBundle,
  { root: LoadedTrustedRoot; outcome: SignatureVerification | VerifyError }
>();

function verifyEnvelopeOnce(parsed: ParsedBundle, trustedRoot: LoadedTrustedRoot): SignatureVerification {
  let cached = verifiedEnvelopes.get(parsed);
  if (cached === undefined || cached.root !== trustedRoot) {
    let outcome: SignatureVerification | VerifyError;
    try {
      outcome = verifySignature(parsed, undefined, {
        trustedRoot,
        signer: { kind: "any-trusted-certificate" },
      });
    } catch (error) {
      if (!isVerifyError(error)) throw error;
      outcome = error;
    }
    cached = { root: trustedRoot, outcome };
    verifiedEnvelopes.set(parsed, cached);
  }
  if (cached.outcome instanceof VerifyError) throw cached.outcome;
  return cached.outcome;
}

/**
 * The statement's predicate type, its certificate against the policy, and its provenance against its
 * certificate: none of it depends on the artifact, so a release checks it once per statement and
 * policy, not once per file. Keyed by the parsed bundle (whose statement and certificate these are)
 * and the policy object; a failure is kept and thrown again, the same for every artifact.
 */
type PolicyOutcome = { readonly provenance: StatementReport["provenance"] } | { readonly error: unknown };
const policyOutcomes = new WeakMap<ParsedBundle, WeakMap<AttestationPolicy, PolicyOutcome>>();

function checkPolicyOnce(
  parsed: ParsedBundle,
  statement: InTotoStatement,
  signer: { readonly subjectAlternativeName: string; readonly extensions: FulcioExtensions },
  policy: AttestationPolicy,
): StatementReport["provenance"] {
  let byPolicy = policyOutcomes.get(parsed);
  if (byPolicy === undefined) {
    byPolicy = new WeakMap();
    policyOutcomes.set(parsed, byPolicy);
  }
  let outcome = byPolicy.get(policy);
  if (outcome === undefined) {
    try {
      outcome = { provenance: checkPolicy(statement, signer, policy) };
    } catch (error) {
      outcome = { error };
    }
    byPolicy.set(policy, outcome);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.provenance;
}

function checkPolicy(
  statement: InTotoStatement,
  { subjectAlternativeName, extensions }: { subjectAlternativeName: string; extensions: FulcioExtensions },
  policy: AttestationPolicy,
): StatementReport["provenance"] {
  if (statement.predicateType !== policy.predicateType) {
    throw new VerifyError(
      "IC_ATTESTATION_PREDICATE_TYPE",
      `the predicate type is ${JSON.stringify(statement.predicateType)}; expected ${JSON.stringify(policy.predicateType)} (--predicate-type)`,
    );
  }
  checkAttestationCertificate(policy, { subjectAlternativeName, extensions });
  if (statement.predicateType !== SLSA_PROVENANCE_V1) return undefined;
  const check = checkProvenanceAgainstCertificate(statement.predicate, extensions);
  return check.buildType === undefined
    ? { crossChecked: check.crossChecked }
    : { crossChecked: check.crossChecked, buildType: check.buildType };
}

/**
 * What an envelope says (its statement, and its certificate's claims for the report) is the same
 * for every artifact checked against it, so it is read once. A statement that cannot be read
 * fails the same way each time.
 */
interface EnvelopeReading {
  readonly statement: InTotoStatement;
  readonly facts: ReturnType<typeof certificateFacts>;
}
const readings = new WeakMap<ParsedBundle, EnvelopeReading | { error: unknown }>();
function readEnvelope(parsed: ParsedBundle): EnvelopeReading {
  let reading = readings.get(parsed);
  if (reading === undefined) {
    try {
      reading = {
        statement: parseInTotoStatement(inTotoPayload(parsed)),
        facts: certificateFacts(parsed),
      };
    } catch (error) {
      reading = { error };
    }
    readings.set(parsed, reading);
  }
  if ("error" in reading) throw reading.error;
  return reading;
}

/**
 * Verifies every envelope's signature, reads its statement and, given the policy, checks it against
 * the policy, ahead of time (for example while the artifacts are hashed); failures are kept for the
 * report. What is left for verifyAttestations is matching each artifact's digest to the subjects.
 */
export function preverifyEnvelopes(
  entries: readonly AttestationEntry[],
  trustedRoot: LoadedTrustedRoot,
  policy?: AttestationPolicy,
): void {
  for (const { parsed } of entries) {
    if (parsed.bundle.content.$case !== "dsseEnvelope") continue;
    try {
      const { statement } = readEnvelope(parsed);
      const { signer } = verifyEnvelopeOnce(parsed, trustedRoot);
      if (policy !== undefined && signer.kind === "certificate" && parsed.mediaType !== BUNDLE_V01)
        checkPolicyOnce(parsed, statement, signer, policy);
    } catch (error) {
      if (!isVerifyError(error)) throw error;
    }
  }
}

function inTotoPayload(parsed: ParsedBundle): Buffer {
  const { content } = parsed.bundle;
  if (content.$case !== "dsseEnvelope") {
    throw new VerifyError(
      "IC_ATTESTATION_NOT_DSSE",
      "the bundle holds a message signature, not a DSSE attestation",
    );
  }
  if (content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VerifyError(
      "IC_ATTESTATION_NOT_IN_TOTO",
      `the DSSE payload type is ${JSON.stringify(content.dsseEnvelope.payloadType)}; expected ${IN_TOTO_PAYLOAD_TYPE}`,
    );
  }
  return Buffer.from(content.dsseEnvelope.payload);
}

/** The certificate's claims before verification, for the report only; decisions wait for verifySignature. */
export function certificateFacts(
  parsed: ParsedBundle,
): { subjectAlternativeName: string; extensions: FulcioExtensions } | undefined {
  try {
    const certificate = leafCertificate(parsed.bundle);
    return {
      subjectAlternativeName: subjectAlternativeName(certificate) ?? "",
      extensions: readFulcioExtensions(certificate),
    };
  } catch {
    return undefined;
  }
}

export function describeSigner(workflow: string, ext: FulcioExtensions): StatementSigner {
  const signer: Mutable<StatementSigner> = { workflow };
  if (ext.issuer !== undefined) signer.issuer = ext.issuer;
  if (ext.sourceRepositoryUri !== undefined) signer.sourceRepository = ext.sourceRepositoryUri;
  if (ext.sourceRepositoryRef !== undefined) signer.sourceRef = ext.sourceRepositoryRef;
  if (ext.sourceRepositoryDigest !== undefined) signer.sourceCommit = ext.sourceRepositoryDigest;
  if (ext.buildSignerDigest !== undefined) signer.signerDigest = ext.buildSignerDigest;
  if (ext.runnerEnvironment !== undefined) signer.runnerEnvironment = ext.runnerEnvironment;
  if (ext.runInvocationUri !== undefined) signer.runInvocationUri = ext.runInvocationUri;
  return signer;
}

/** `sha256:…, sha512:…`: the digests the artifact was matched with. */
export function describeDigests(digests: ArtifactDigests): string {
  return SUBJECT_DIGEST_ALGORITHMS.flatMap((algorithm) => {
    const value = digests[algorithm];
    return value === undefined ? [] : [`${algorithm}:${value}`];
  }).join(", ");
}

function describeAlgorithms(statement: InTotoStatement): string {
  const accepted: readonly string[] = SUBJECT_DIGEST_ALGORITHMS;
  const names = subjectAlgorithms(statement).map((name) =>
    accepted.includes(name) ? name : `${name} (not accepted: weaker or unknown)`,
  );
  return names.length === 0 ? "no digest" : names.join(", ");
}

const BUNDLE_V01 = "application/vnd.dev.sigstore.bundle+json;version=0.1";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
