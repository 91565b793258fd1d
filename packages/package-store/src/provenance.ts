import {
  type AttestationEntry,
  buildAttestationPolicy,
  SLSA_PROVENANCE_V1,
  type StatementReport,
  verifyAttestations,
} from "@ironclaw/verify/attestation";
import { isVerifyError } from "@ironclaw/verify/errors";
import { type LoadedTrustedRoot, parseBundleDocument } from "@ironclaw/verify/sigstore";
import { PackageStoreError } from "./errors.js";
import { type PackageSpec, packagePurl } from "./spec.js";

/** What a verified provenance attests, for the record and the approver. */
export interface VerifiedProvenance {
  readonly subject: string;
  readonly sourceRepository: string;
  readonly sourceCommit?: string;
  readonly sourceRef?: string;
  readonly workflow: string;
  /** The SLSA build type, and whether the predicate was compared field by field with the certificate. */
  readonly buildType?: string;
  readonly crossChecked: boolean;
}

function provenanceError(spec: PackageSpec, why: string): PackageStoreError {
  return new PackageStoreError(
    "IC_PACKAGE_PROVENANCE",
    `${spec.name}@${spec.version}: the provenance does not verify: ${why}`,
  );
}

/**
 * The SLSA provenance bundles of npm's attestations document (`{ attestations: [{ predicateType,
 * bundle }] }`); npm's own publish attestation, signed by the registry's key, is not provenance and
 * is left out. None: the version has no provenance.
 */
export function provenanceEntries(body: Buffer, spec: PackageSpec): AttestationEntry[] {
  let document: unknown;
  try {
    document = JSON.parse(body.toString("utf8"));
  } catch {
    throw provenanceError(spec, "the attestations document is not JSON");
  }
  const list =
    typeof document === "object" && document !== null && Object.hasOwn(document, "attestations")
      ? (document as { attestations: unknown }).attestations
      : undefined;
  if (!Array.isArray(list)) throw provenanceError(spec, "the attestations document has no attestations list");
  const entries: AttestationEntry[] = [];
  for (const [index, item] of list.entries()) {
    if (typeof item !== "object" || item === null || !Object.hasOwn(item, "predicateType")) continue;
    const { predicateType, bundle } = item as { predicateType: unknown; bundle?: unknown };
    if (predicateType !== SLSA_PROVENANCE_V1) continue;
    try {
      const bytes = Buffer.from(JSON.stringify(bundle ?? null), "utf8");
      entries.push({ line: index + 1, parsed: parseBundleDocument(bytes, `attestation ${index + 1}`) });
    } catch (error) {
      if (!isVerifyError(error)) throw error;
      throw provenanceError(spec, `attestation ${index + 1}: ${error.message} (${error.code})`);
    }
  }
  return entries;
}

/**
 * Verifies the provenance with the code behind `ironclaw attestation verify`: a Sigstore signature
 * under the trusted root, a workflow of the approved repository as signer, the predicate agreeing with
 * the certificate; and, beyond what that command asks, a subject that is this package's purl with the
 * tarball's SHA-512, so provenance of another version or package with the same bytes is refused.
 */
export function verifyProvenance(
  entries: readonly AttestationEntry[],
  spec: PackageSpec,
  sha512Hex: string,
  trustedRoot: LoadedTrustedRoot,
  registry?: URL,
): VerifiedProvenance {
  const repository = spec.repository.slice("github.com/".length);
  const result = verifyAttestations(entries, {
    trustedRoot,
    policy: buildAttestationPolicy({ repo: repository }),
    artifact: { digests: { sha512: sha512Hex } },
    requireAll: false,
  });
  const purl = packagePurl(spec.name, spec.version);
  // npm names the registry in the purl when a package is published anywhere but registry.npmjs.org;
  // that form is accepted for the configured registry only.
  const purls = new Set([purl]);
  if (registry !== undefined) purls.add(`${purl}?repository_url=${registry.href.replace(/\/$/, "")}`);
  const verified = result.statements.filter((s) => s.verdict === "verified");
  if (verified.length === 0) {
    const reasons = result.statements.map((s) => s.failure?.message ?? s.verdict).slice(0, 3);
    throw provenanceError(spec, `${result.summary}${reasons.length === 0 ? "" : `: ${reasons.join("; ")}`}`);
  }
  const named = verified.find((s) =>
    s.subjects.some(
      (subject) =>
        purls.has(subject.name) &&
        Object.hasOwn(subject.digest, "sha512") &&
        subject.digest.sha512 === sha512Hex,
    ),
  );
  if (named === undefined) {
    const names = verified.flatMap((s) => s.subjects.map((subject) => subject.name));
    throw provenanceError(
      spec,
      `it names ${names.map((n) => JSON.stringify(n)).join(", ")} with these bytes, not ${purl}`,
    );
  }
  return describe(purl, named);
}

function describe(subject: string, statement: StatementReport): VerifiedProvenance {
  const { signer, provenance } = statement;
  return {
    subject,
    crossChecked: provenance?.crossChecked === true,
    ...(provenance?.buildType === undefined ? {} : { buildType: provenance.buildType }),
    sourceRepository: signer?.sourceRepository ?? "",
    workflow: signer?.workflow ?? "",
    ...(signer?.sourceCommit === undefined ? {} : { sourceCommit: signer.sourceCommit }),
    ...(signer?.sourceRef === undefined ? {} : { sourceRef: signer.sourceRef }),
  };
}
