import type { KeyObject } from "node:crypto";
import type { Bundle, TransparencyLogEntry } from "@sigstore/bundle";
import { RFC3161Timestamp, X509Certificate } from "@sigstore/core";
import { HashAlgorithm } from "@sigstore/protobuf-specs";
import { type SignedEntity, type TrustMaterial, toSignedEntity, Verifier } from "@sigstore/verify";
import { VerifyError, type VerifyErrorCode } from "../errors.js";
import { type Artifact, artifactDigest } from "./artifact.js";
import type { BundleFormat, ParsedBundle } from "./bundle-document.js";
import { installDerEncoder, pinDer } from "./der-encoding.js";
import { rootForBundle } from "./foreign-issuer.js";
import { type FulcioExtensions, readFulcioExtensions } from "./fulcio-extensions.js";
import { type CertificateIdentityPolicy, checkIdentity } from "./identity-policy.js";
import { IN_TOTO_PAYLOAD_TYPE, parseInTotoStatement, subjectsMatching } from "./in-toto.js";
import { checkInclusionProofsAgreeWithCheckpoints } from "./inclusion-proof.js";
import { leafCertificateBytes } from "./leaf-certificate.js";
import {
  ArtifactMessageContent,
  EnvelopeContent,
  messageHashName,
  type SignatureContent,
} from "./signature-content.js";
import { subjectAlternativeName as subjectAlternativeNameOf } from "./subject-alternative-name.js";
import { checkTimestampList, partitionTimestamps, type UnverifiedTimestamp } from "./timestamps.js";
import { verifyTransparencyLog } from "./transparency-log.js";
import { type LoadedTrustedRoot, logRequirements, trustMaterialFor } from "./trusted-root.js";

/** Who must have signed: a certificate identity (keyless), or one public key. */
export type SignerPolicy =
  | { readonly kind: "certificate"; readonly identity: CertificateIdentityPolicy }
  | {
      readonly kind: "key";
      readonly publicKey: KeyObject;
      /** When the key may have signed; checked at every verified time (a managed key's window). */
      readonly validFor?: { readonly start?: Date; readonly end?: Date };
    }
  /**
   * Any certificate the trusted root's CA issued. Only for callers that apply their own policy to
   * `signer` afterwards (attestation policies built on Fulcio extensions); never a policy by itself.
   */
  | { readonly kind: "any-trusted-certificate" };

export interface VerifySignatureOptions {
  readonly trustedRoot: LoadedTrustedRoot;
  readonly signer: SignerPolicy;
}

export type VerifiedSigner =
  | {
      readonly kind: "certificate";
      readonly subjectAlternativeName: string;
      readonly issuer: string;
      readonly extensions: FulcioExtensions;
      readonly notBefore: Date;
      readonly notAfter: Date;
    }
  | { readonly kind: "key" };

export interface VerifiedLogEntry {
  readonly logIndex: string;
  readonly logId: string;
  readonly kind: string;
  readonly version: string;
  /** Absent for Rekor v2 entries, which are timed by a timestamp authority instead. */
  readonly integratedTime?: Date;
}

export interface SignatureVerification {
  /** The SHA-256 of the artifact the signature was checked against; absent when the caller checks the subject. */
  readonly artifactSha256?: string;
  readonly format: BundleFormat;
  readonly mediaType: string;
  readonly content:
    | { readonly kind: "message-signature" }
    | { readonly kind: "dsse"; readonly payloadType: string; readonly payload: Buffer };
  readonly signer: VerifiedSigner;
  readonly transparencyLog: readonly VerifiedLogEntry[];
  readonly timestamps: readonly {
    readonly source: "transparency-log" | "timestamp-authority";
    readonly time: Date;
  }[];
  /** RFC 3161 timestamps that did not verify and were not counted (threshold semantics). */
  readonly unverifiedTimestamps: readonly UnverifiedTimestamp[];
  readonly trustedRoot: string;
}

/** sigstore-js error codes, as ours. */
const SIGSTORE_CODES: Readonly<Record<string, VerifyErrorCode>> = {
  TLOG_ERROR: "IC_SIGNATURE_TLOG",
  TLOG_INCLUSION_PROOF_ERROR: "IC_SIGNATURE_TLOG",
  TLOG_INCLUSION_PROMISE_ERROR: "IC_SIGNATURE_TLOG",
  TLOG_MISSING_INCLUSION_ERROR: "IC_SIGNATURE_TLOG",
  TLOG_BODY_ERROR: "IC_SIGNATURE_TLOG_BODY",
  CERTIFICATE_ERROR: "IC_SIGNATURE_CERTIFICATE",
  PUBLIC_KEY_ERROR: "IC_SIGNATURE_PUBLIC_KEY",
  SIGNATURE_ERROR: "IC_SIGNATURE_INVALID",
  TIMESTAMP_ERROR: "IC_SIGNATURE_TIMESTAMP",
};

/**
 * Verifies a bundle over an artifact: the content matches the artifact, the signature, certificate
 * chain, SCTs, log inclusion and timestamps verify against the trusted root (sigstore-js), and the
 * signer is the one the policy names, matched on parsed certificate values. Any doubt is an error.
 */
/**
 * `artifact` undefined: a DSSE envelope whose subjects the caller checks itself (attestations name
 * their subjects by several digests); a message signature always needs its artifact.
 */
export function verifySignature(
  parsed: ParsedBundle,
  artifact: Artifact | undefined,
  options: VerifySignatureOptions,
): SignatureVerification {
  installDerEncoder();
  try {
    return verifyOrThrow(parsed, artifact, options);
  } catch (error) {
    // Whatever a dependency throws (a DER parser on a corrupt certificate, say) is a "no", with its cause.
    throw fromSigstoreError(error);
  }
}

/** The certificates sigstore-js compares again and again while it builds chains (see pinDer). */
function pinCertificates(material: TrustMaterial, entity: SignedEntity): void {
  for (const authority of [...material.certificateAuthorities, ...material.timestampAuthorities]) {
    for (const certificate of authority.certChain) pinDer(certificate.root);
  }
  if (entity.key.$case === "certificate") pinDer(entity.key.certificate.root);
}

function verifyOrThrow(
  parsed: ParsedBundle,
  artifact: Artifact | undefined,
  options: VerifySignatureOptions,
): SignatureVerification {
  const { bundle } = parsed;
  const trustedRoot = rootForBundle(bundle, options.trustedRoot);
  checkKeyKind(bundle, options.signer);
  const { content, summary } = signatureContent(bundle, artifact);
  const entity: SignedEntity = { ...toSignedEntity(withSomeMessageDigest(bundle)), signature: content };
  const publicKey = options.signer.kind === "key" ? options.signer.publicKey : undefined;
  checkInclusionProofsAgreeWithCheckpoints(bundle.verificationMaterial.tlogEntries);
  const material = trustMaterialFor(
    trustedRoot,
    publicKey,
    options.signer.kind === "key" ? options.signer.validFor : undefined,
  );
  pinCertificates(material, entity);
  // A root without a transparency log (a private instance) times bundles only by its TSA.
  const logs = logRequirements(trustedRoot);
  // sigstore-js checks the timestamps and the certificate (or key); the log entries are ours to
  // check, since its checkpoint check compiles bundle text into a regular expression; then the
  // signature, in sigstore-js's order, so the first failure found is the one it would report.
  const deferred: SignatureContent = {
    signature: content.signature,
    compareSignature: (signature) => content.compareSignature(signature),
    compareDigest: (digest) => content.compareDigest(digest),
    verifySignature: () => true,
  };
  checkTimestampList(bundle, material);
  const { kept, unverified } = partitionTimestamps(entity, material);
  if (!logs.transparencyLog && !kept.some((timestamp) => timestamp.$case === "timestamp-authority")) {
    throw new VerifyError(
      "IC_SIGNATURE_TIMESTAMP",
      `${trustedRoot.origin} has no transparency log (a private Sigstore instance), so at least one RFC 3161 timestamp from its timestamp authority must verify; none did`,
    );
  }
  const thresholds = { tlogThreshold: 0, ctlogThreshold: logs.certificateTransparency ? 1 : 0 };
  const { key } = new Verifier(material, thresholds).verify({
    ...entity,
    signature: deferred,
    tlogEntries: [],
    timestamps: kept,
  });
  verifyTransparencyLog(
    bundle.verificationMaterial.tlogEntries,
    content,
    material.tlogs,
    logs.transparencyLog ? 1 : 0,
  );
  if (!content.verifySignature(key)) {
    throw new VerifyError(
      "IC_SIGNATURE_INVALID",
      "signature verification failed: the signature does not verify with the signing key",
    );
  }
  const signer = verifiedSigner(bundle, options.signer);
  return {
    ...(artifact === undefined ? {} : { artifactSha256: artifactDigest(artifact).toString("hex") }),
    format: parsed.format,
    mediaType: parsed.mediaType,
    content: summary,
    signer,
    transparencyLog: bundle.verificationMaterial.tlogEntries.map(logEntrySummary),
    timestamps: timestampsOf(bundle, unverified),
    unverifiedTimestamps: unverified,
    trustedRoot: trustedRoot.origin,
  };
}

function checkKeyKind(bundle: Bundle, signer: SignerPolicy): void {
  const material = bundle.verificationMaterial.content.$case;
  if (signer.kind === "key" && material !== "publicKey") {
    throw new VerifyError(
      "IC_POLICY_SIGNER_KIND",
      "the bundle is signed with a certificate; verify it with --certificate-identity and --certificate-oidc-issuer, not --key",
    );
  }
  if (signer.kind !== "key" && material === "publicKey") {
    throw new VerifyError(
      "IC_POLICY_SIGNER_KIND",
      "the bundle is signed with a public key, not a certificate; verify it with --key",
    );
  }
}

function signatureContent(
  bundle: Bundle,
  artifact: Artifact | undefined,
): { content: SignatureContent; summary: SignatureVerification["content"] } {
  const { content } = bundle;
  if (content.$case === "messageSignature") {
    if (artifact === undefined) {
      throw new VerifyError(
        "IC_ARTIFACT_REQUIRED",
        "a message signature can only be verified against its artifact",
      );
    }
    if (content.messageSignature.messageDigest === undefined) {
      // Optional in protobuf-specs: the signature is then checked over the artifact's own bytes.
      if (artifact.kind !== "bytes") {
        throw new VerifyError(
          "IC_ARTIFACT_REQUIRED",
          "the bundle has no messageDigest, so nothing in it binds a digest to the signature; give the artifact's file instead of sha256:<hex>",
        );
      }
      const digest = artifactDigest(artifact, "sha256");
      return {
        content: new ArtifactMessageContent(content.messageSignature, artifact, digest, "sha256"),
        summary: { kind: "message-signature" },
      };
    }
    const hashName = messageHashName(content.messageSignature);
    if (hashName === undefined) {
      throw new VerifyError(
        "IC_BUNDLE_INVALID",
        "the bundle's message digest has no supported hash algorithm (SHA2_256, SHA2_384, SHA2_512)",
      );
    }
    const digest = artifactDigest(artifact, hashName);
    const claimed = Buffer.from(content.messageSignature.messageDigest?.digest ?? Buffer.alloc(0));
    if (!claimed.equals(digest)) {
      throw new VerifyError(
        "IC_SIGNATURE_ARTIFACT_MISMATCH",
        `the bundle signs a file with ${hashName} ${claimed.toString("hex")}; the artifact has ${digest.toString("hex")}`,
      );
    }
    return {
      content: new ArtifactMessageContent(content.messageSignature, artifact, digest, hashName),
      summary: { kind: "message-signature" },
    };
  }
  const envelope = content.dsseEnvelope;
  if (artifact !== undefined) {
    checkEnvelopeSubject(
      envelope.payloadType,
      Buffer.from(envelope.payload),
      artifactDigest(artifact).toString("hex"),
    );
  }
  return {
    content: new EnvelopeContent(envelope, logsPreAuthEncoding(bundle.verificationMaterial.tlogEntries)),
    summary: { kind: "dsse", payloadType: envelope.payloadType, payload: Buffer.from(envelope.payload) },
  };
}

/**
 * sigstore-js builds its own view of a message signature from `messageDigest`, which we replace with
 * ours (ArtifactMessageContent); a bundle without one gets a placeholder only for that step.
 */
function withSomeMessageDigest(bundle: Bundle): Bundle {
  const { content } = bundle;
  if (content.$case !== "messageSignature" || content.messageSignature.messageDigest !== undefined)
    return bundle;
  const placeholder = { algorithm: HashAlgorithm.SHA2_256, digest: Buffer.alloc(32) };
  return {
    ...bundle,
    content: {
      $case: "messageSignature",
      messageSignature: { ...content.messageSignature, messageDigest: placeholder },
    },
  };
}

/** An in-toto statement must name the artifact among its subjects; any other payload must be it. */
function checkEnvelopeSubject(payloadType: string, payload: Buffer, sha256Hex: string): void {
  if (payloadType === IN_TOTO_PAYLOAD_TYPE) {
    const statement = parseInTotoStatement(payload);
    if (subjectsMatching(statement, { sha256: sha256Hex }).length === 0) {
      throw new VerifyError(
        "IC_SIGNATURE_ARTIFACT_MISMATCH",
        `no subject of the in-toto statement has sha256 ${sha256Hex}; it names ${statement.subjects.map((s) => s.name || "(unnamed)").join(", ")}`,
      );
    }
    return;
  }
  const payloadDigest = artifactDigest({ kind: "bytes", bytes: payload }).toString("hex");
  if (payloadDigest !== sha256Hex) {
    throw new VerifyError(
      "IC_SIGNATURE_ARTIFACT_MISMATCH",
      `the DSSE payload (${payloadType}) has sha256 ${payloadDigest}; the artifact has ${sha256Hex}`,
    );
  }
}

/** Rekor v2 logs DSSE as hashedrekord over PAE; a bundle mixing that with payload-digest entries is refused. */
function logsPreAuthEncoding(entries: readonly TransparencyLogEntry[]): boolean {
  const kinds = new Set(entries.map((entry) => entry.kindVersion?.kind));
  if (kinds.has("hashedrekord") && kinds.size > 1) {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      `the bundle's log entries mix kinds (${[...kinds].join(", ")}) for one envelope`,
    );
  }
  return kinds.has("hashedrekord");
}

function verifiedSigner(bundle: Bundle, policy: SignerPolicy): VerifiedSigner {
  if (policy.kind === "key") return { kind: "key" };
  const certificate = leafCertificate(bundle);
  const extensions = readFulcioExtensions(certificate);
  const subjectAlternativeName = subjectAlternativeNameOf(certificate);
  if (policy.kind === "certificate") {
    checkIdentity(policy.identity, { subjectAlternativeName, issuer: extensions.issuer });
  }
  return {
    kind: "certificate",
    subjectAlternativeName: subjectAlternativeName ?? "",
    issuer: extensions.issuer ?? "",
    extensions,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

export function leafCertificate(bundle: Bundle): X509Certificate {
  const raw = leafCertificateBytes(bundle);
  if (raw === undefined) throw new VerifyError("IC_BUNDLE_INVALID", "the bundle has no signing certificate");
  return X509Certificate.parse(Buffer.from(raw));
}

function logEntrySummary(entry: TransparencyLogEntry): VerifiedLogEntry {
  const integrated = Number(entry.integratedTime);
  return {
    logIndex: String(entry.logIndex),
    logId: Buffer.from(entry.logId?.keyId ?? Buffer.alloc(0)).toString("hex"),
    kind: entry.kindVersion?.kind ?? "",
    version: entry.kindVersion?.version ?? "",
    ...(integrated > 0 ? { integratedTime: new Date(integrated * 1000) } : {}),
  };
}

function timestampsOf(
  bundle: Bundle,
  unverified: readonly UnverifiedTimestamp[],
): SignatureVerification["timestamps"] {
  const setAside = new Set(unverified.map((stamp) => stamp.index));
  const fromLog = bundle.verificationMaterial.tlogEntries
    .filter((entry) => entry.inclusionPromise !== undefined && Number(entry.integratedTime) > 0)
    .map((entry) => ({
      source: "transparency-log" as const,
      time: new Date(Number(entry.integratedTime) * 1000),
    }));
  const fromAuthority = (bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [])
    .filter((_stamp, index) => !setAside.has(index))
    .map((stamp) => ({
      source: "timestamp-authority" as const,
      time: RFC3161Timestamp.parse(Buffer.from(stamp.signedTimestamp)).signingTime,
    }));
  return [...fromLog, ...fromAuthority];
}

/** A sigstore-js verdict, or any exception from a dependency, becomes a coded verification failure. */
function fromSigstoreError(error: unknown): VerifyError {
  if (error instanceof VerifyError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail =
    cause instanceof Error && cause.message !== message ? `${message}: ${cause.message}` : message;
  const ours = typeof code === "string" ? SIGSTORE_CODES[code] : undefined;
  return new VerifyError(ours ?? "IC_SIGNATURE_FAILED", `signature verification failed: ${detail}`, {
    cause: error,
  });
}
