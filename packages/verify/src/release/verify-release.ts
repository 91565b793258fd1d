import { createHash } from "node:crypto";
import { type AttestationEntry, parseAttestationFile } from "../attestation/container.js";
import { type AttestationPolicy, buildAttestationPolicy } from "../attestation/policy.js";
import { preverifyEnvelopes, verifyAttestations } from "../attestation/verify-attestations.js";
import { parseChecksums } from "../checksums/parse.js";
import type { ChecksumList } from "../checksums/types.js";
import { isVerifyError, VerifyError, type VerifyErrorCode } from "../errors.js";
import { artifactFromBytes } from "../sigstore/artifact.js";
import { parseBundleDocument } from "../sigstore/bundle-document.js";
import { foreignIssuerAdvice } from "../sigstore/foreign-issuer.js";
import {
  describeTrustedRoot,
  type LoadedTrustedRoot,
  type TrustedRootDescription,
} from "../sigstore/trusted-root.js";
import { type SignatureVerification, verifySignature } from "../sigstore/verify-signature.js";
import {
  GITHUB_ACTIONS_ISSUER,
  OFFICIAL_REPOSITORY,
  parseAssetName,
  RELEASE_TAG,
  RELEASE_WORKFLOW_PATH,
} from "./config.js";
import { checkReleaseSigner, type ReleaseSigner } from "./release-signer.js";

export interface ReleasePolicy {
  /** OWNER/REPO; default the official repository. */
  readonly repository: string;
  /** The workflow that signs releases, as OWNER/REPO/PATH; default the repository's release.yml. */
  readonly signerWorkflow: string;
  readonly issuer: string;
  /** vX.Y.Z when the caller knows which release it wants; otherwise read from the signing identity. */
  readonly tag?: string;
}

export function releasePolicy(
  options: { repository?: string; signerWorkflow?: string; tag?: string; issuer?: string } = {},
): ReleasePolicy {
  const repository = options.repository ?? OFFICIAL_REPOSITORY;
  if (options.tag !== undefined && !RELEASE_TAG.test(options.tag)) {
    throw new VerifyError("IC_POLICY_INVALID", `--tag ${JSON.stringify(options.tag)} is not vX.Y.Z`);
  }
  return {
    repository,
    signerWorkflow: options.signerWorkflow ?? `${repository}/${RELEASE_WORKFLOW_PATH}`,
    issuer: options.issuer ?? GITHUB_ACTIONS_ISSUER,
    ...(options.tag === undefined ? {} : { tag: options.tag }),
  };
}

export type CheckName = "signature" | "checksum" | "provenance" | "version";

export interface ReleaseCheck {
  readonly check: CheckName;
  readonly ok: boolean;
  /** What was found and, when it failed, what was expected. */
  readonly detail: string;
  readonly code?: VerifyErrorCode;
}

export interface ArtifactReport {
  readonly name: string;
  readonly sha256: string;
  readonly ok: boolean;
  readonly checks: readonly ReleaseCheck[];
}

export interface ReleaseVerification {
  readonly ok: boolean;
  readonly mode: "full" | "checksums-only";
  readonly repository: string;
  /** The release as its signature says, when the signature verified. */
  readonly signer?: ReleaseSigner;
  /** The trusted root the signature and attestations were verified under (absent for checksums-only). */
  readonly trustedRoot?: TrustedRootDescription;
  readonly artifacts: readonly ArtifactReport[];
  /** Checks this run skipped, in words; empty for a full verification. */
  readonly notChecked: readonly string[];
}

export interface ReleaseArtifact {
  readonly name: string;
  /** Lower-case hex; absent when the file could not be read (see `problem`). */
  readonly sha256?: string;
  readonly problem?: { readonly code: VerifyErrorCode; readonly message: string };
  /**
   * False for an executable extracted from an archive: it has no SHA256SUMS line of its own, so its
   * provenance, whose attestations file SHA256SUMS does list, is what vouches for it.
   */
  readonly listed?: boolean;
}

export interface ReleaseInputs {
  readonly checksums: Uint8Array;
  /** SHA256SUMS.sigstore.json; absent only in checksums-only mode. */
  readonly signatureBundle?: Uint8Array;
  /** The release's .intoto.jsonl, with its name in SHA256SUMS; absent only in checksums-only mode. */
  readonly attestations?: { readonly name: string; readonly bytes: Uint8Array };
  /**
   * The files to verify, with their SHA-256 as computed by the caller; a promise lets the caller hash
   * while the signature and the attestations are verified.
   */
  readonly artifacts: readonly ReleaseArtifact[] | Promise<readonly ReleaseArtifact[]>;
  readonly trustedRoot?: LoadedTrustedRoot;
  readonly policy: ReleasePolicy;
  readonly mode: "full" | "checksums-only";
}

export const CHECKSUMS_ONLY_CAVEAT = [
  "the signature over SHA256SUMS: who published this release (anyone can write a SHA256SUMS)",
  "the build provenance: which repository, workflow and commit built each file",
];

/**
 * DESIGN §3: the signature over SHA256SUMS, each artifact's checksum line, and each artifact's
 * provenance, which must all name one repository, workflow, tag and commit. Every check of every
 * artifact is reported; the release verifies only when all of them pass.
 */
export async function verifyRelease(inputs: ReleaseInputs): Promise<ReleaseVerification> {
  const list = parseChecksums(inputs.checksums);
  if (inputs.mode === "checksums-only") {
    const artifacts = (await inputs.artifacts).map((artifact) =>
      report(artifact, [checksumCheck(list, artifact)]),
    );
    return {
      ok: artifacts.every((a) => a.ok),
      mode: "checksums-only",
      repository: inputs.policy.repository,
      artifacts,
      notChecked: CHECKSUMS_ONLY_CAVEAT,
    };
  }
  const signature = checkSignature(inputs);
  const { signer } = signature;
  const attestationsCheck = signer === undefined ? undefined : checkAttestationsFile(inputs, list);
  // One policy for every artifact: the repository, workflow, tag and commit the signature names.
  const attestationPolicy = signer === undefined ? undefined : provenancePolicy(inputs, signer);
  // Attestations matter only under a verified signature; their envelopes, and each statement against
  // the policy, are checked while the files hash, leaving only the digests to match afterwards.
  if (
    signer !== undefined &&
    attestationsCheck === undefined &&
    inputs.attestations !== undefined &&
    inputs.trustedRoot !== undefined
  ) {
    try {
      preverifyEnvelopes(
        parsedAttestations(inputs.attestations),
        inputs.trustedRoot,
        attestationPolicy instanceof VerifyError ? undefined : attestationPolicy,
      );
    } catch {
      // An unreadable attestations file is reported per artifact below.
    }
  }
  const artifacts = (await inputs.artifacts).map((artifact) => {
    const checks: ReleaseCheck[] = [signature.check, checksumCheck(list, artifact)];
    if (signer === undefined || attestationPolicy === undefined) {
      checks.push({
        check: "provenance",
        ok: false,
        detail: "not checked: SHA256SUMS is not trusted, so neither is the attestations file it lists",
      });
    } else {
      checks.push(provenanceCheck(inputs, artifact, signer, attestationPolicy, attestationsCheck));
      const version = artifact.listed === false ? undefined : versionCheck(artifact.name, signer);
      if (version !== undefined) checks.push(version);
    }
    return report(artifact, checks);
  });
  return {
    ok: artifacts.length > 0 && artifacts.every((a) => a.ok),
    mode: "full",
    repository: inputs.policy.repository,
    ...(signer === undefined ? {} : { signer }),
    ...(inputs.trustedRoot === undefined ? {} : { trustedRoot: describeTrustedRoot(inputs.trustedRoot) }),
    artifacts,
    notChecked: [],
  };
}

function report(artifact: ReleaseArtifact, checks: ReleaseCheck[]): ArtifactReport {
  return { name: artifact.name, sha256: artifact.sha256 ?? "", ok: checks.every((c) => c.ok), checks };
}

function failure(check: CheckName, error: unknown): ReleaseCheck {
  if (isVerifyError(error)) return { check, ok: false, detail: error.message, code: error.code };
  throw error;
}

function checkSignature(inputs: ReleaseInputs): { check: ReleaseCheck; signer?: ReleaseSigner } {
  try {
    if (inputs.signatureBundle === undefined || inputs.trustedRoot === undefined) {
      throw new VerifyError(
        "IC_FILE_MISSING",
        "SHA256SUMS.sigstore.json is missing: the release is not signed",
      );
    }
    const parsed = parseBundleDocument(inputs.signatureBundle, "SHA256SUMS.sigstore.json");
    let result: SignatureVerification;
    try {
      result = verifySignature(parsed, artifactFromBytes(inputs.checksums), {
        trustedRoot: inputs.trustedRoot,
        signer: { kind: "any-trusted-certificate" },
      });
    } catch (error) {
      const advice = foreignIssuerAdvice(parsed.bundle, inputs.trustedRoot);
      if (!isVerifyError(error) || advice === undefined) throw error;
      throw new VerifyError(error.code, `${error.message}; ${advice}`, { cause: error });
    }
    const signer = checkReleaseSigner(result, inputs.policy);
    return {
      signer,
      check: {
        check: "signature",
        ok: true,
        detail: `SHA256SUMS signed by ${signer.workflow} (commit ${signer.commit}, run ${signer.runInvocationUri ?? "unknown"})${unverifiedNote(result.unverifiedTimestamps)}`,
      },
    };
  } catch (error) {
    return { check: failure("signature", error) };
  }
}

/** Threshold semantics never hide a timestamp that failed: the check says how many were set aside. */
function unverifiedNote(stamps: SignatureVerification["unverifiedTimestamps"]): string {
  if (stamps.length === 0) return "";
  return `; ${stamps.length} RFC 3161 timestamp(s) NOT verified, not counted (${stamps.map((s) => s.reason).join("; ")})`;
}

function checksumCheck(list: ChecksumList, artifact: ReleaseArtifact): ReleaseCheck {
  if (artifact.problem !== undefined)
    return { check: "checksum", ok: false, code: artifact.problem.code, detail: artifact.problem.message };
  if (artifact.listed === false) {
    return {
      check: "checksum",
      ok: true,
      detail: "not listed in SHA256SUMS (a file from inside an archive): vouched for by its provenance below",
    };
  }
  const entry = list.byName.get(artifact.name);
  if (entry === undefined) {
    return {
      check: "checksum",
      ok: false,
      code: "IC_RELEASE_NOT_LISTED",
      detail: `SHA256SUMS has no line for ${JSON.stringify(artifact.name)}`,
    };
  }
  if (entry.sha256 !== artifact.sha256) {
    return {
      check: "checksum",
      ok: false,
      code: "IC_RELEASE_CHECKSUM_MISMATCH",
      detail: `expected sha256 ${entry.sha256} (SHA256SUMS line ${entry.line}), found ${artifact.sha256}`,
    };
  }
  return {
    check: "checksum",
    ok: true,
    detail: `sha256 ${artifact.sha256} matches SHA256SUMS line ${entry.line}`,
  };
}

/** The attestations file must itself be listed in the signed SHA256SUMS and match it. */
function checkAttestationsFile(inputs: ReleaseInputs, list: ChecksumList): ReleaseCheck | undefined {
  if (inputs.attestations === undefined) {
    return {
      check: "provenance",
      ok: false,
      code: "IC_FILE_MISSING",
      detail: "the release's .intoto.jsonl is missing, so provenance cannot be checked",
    };
  }
  const sha256 = createHash("sha256").update(inputs.attestations.bytes).digest("hex");
  const listed = checksumCheck(list, { name: inputs.attestations.name, sha256 });
  return listed.ok
    ? undefined
    : { ...listed, check: "provenance", detail: `the attestations file: ${listed.detail}` };
}

/** The attestations must come from the same repository, workflow, tag and commit as the signature. */
function provenancePolicy(inputs: ReleaseInputs, signer: ReleaseSigner): AttestationPolicy | VerifyError {
  try {
    return buildAttestationPolicy({
      repo: inputs.policy.repository,
      signerWorkflow: inputs.policy.signerWorkflow,
      sourceRef: `refs/tags/${signer.tag}`,
      sourceDigest: signer.commit,
      certOidcIssuer: inputs.policy.issuer,
      denySelfHostedRunners: true,
    });
  } catch (error) {
    if (isVerifyError(error)) return error;
    throw error;
  }
}

function provenanceCheck(
  inputs: ReleaseInputs,
  artifact: ReleaseArtifact,
  signer: ReleaseSigner,
  policy: AttestationPolicy | VerifyError,
  attestationsProblem: ReleaseCheck | undefined,
): ReleaseCheck {
  if (attestationsProblem !== undefined) return attestationsProblem;
  if (inputs.attestations === undefined || inputs.trustedRoot === undefined)
    throw new Error("unreachable: attestations checked above");
  if (artifact.name === inputs.attestations.name && artifact.listed !== false) {
    return {
      check: "provenance",
      ok: true,
      detail: "the attestations file itself: covered by the signature over SHA256SUMS",
    };
  }
  if (artifact.sha256 === undefined)
    return { check: "provenance", ok: false, detail: "not checked: the file could not be read" };
  try {
    if (policy instanceof VerifyError) throw policy;
    const entries = parsedAttestations(inputs.attestations);
    const result = verifyAttestations(entries, {
      trustedRoot: inputs.trustedRoot,
      policy,
      artifact: { digests: { sha256: artifact.sha256 } },
      requireAll: true,
    });
    if (!result.ok) {
      const reasons = result.statements
        .filter((s) => s.verdict === "failed")
        .map((s) => `line ${s.line}: ${s.failure?.code}: ${s.failure?.message}`);
      return {
        check: "provenance",
        ok: false,
        code: "IC_RELEASE_PROVENANCE",
        detail: [result.summary, ...reasons].join("; "),
      };
    }
    const verified = result.statements.filter((s) => s.verdict === "verified");
    return {
      check: "provenance",
      ok: true,
      detail: `${verified.length} statement(s): built by ${signer.workflow} from commit ${signer.commit}${verified[0]?.signer?.runInvocationUri === undefined ? "" : ` (run ${verified[0].signer.runInvocationUri})`}`,
    };
  } catch (error) {
    return failure("provenance", error);
  }
}

/** Parsed once per file, so each envelope's signature is verified once however many artifacts it covers. */
const parsedFiles = new WeakMap<object, AttestationEntry[]>();
function parsedAttestations(file: { readonly name: string; readonly bytes: Uint8Array }): AttestationEntry[] {
  let entries = parsedFiles.get(file);
  if (entries === undefined) {
    entries = parseAttestationFile(file.bytes, file.name);
    parsedFiles.set(file, entries);
  }
  return entries;
}

/** The version in an archive's name must be the signed tag's: no mixing files of two releases. */
function versionCheck(name: string, signer: ReleaseSigner): ReleaseCheck | undefined {
  const asset = parseAssetName(name);
  if (asset === undefined) return undefined;
  const expected = signer.tag.slice(1);
  return asset.version === expected
    ? { check: "version", ok: true, detail: `${asset.version} matches the signed tag ${signer.tag}` }
    : {
        check: "version",
        ok: false,
        code: "IC_RELEASE_VERSION_MISMATCH",
        detail: `the file name says ${asset.version}; the signature is for ${signer.tag}`,
      };
}
