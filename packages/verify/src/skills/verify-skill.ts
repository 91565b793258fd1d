import { VerifyError } from "../errors.js";
import { artifactFromBytes } from "../sigstore/artifact.js";
import { MAX_BUNDLE_BYTES, parseBundleDocument } from "../sigstore/bundle-document.js";
import type { LoadedTrustedRoot } from "../sigstore/trusted-root.js";
import { verifySignature } from "../sigstore/verify-signature.js";
import { readSkillArchive, type SkillArchive, skillDigest } from "./archive.js";
import {
  checkSkillSigner,
  describeSkillSigner,
  type SkillSigner,
  type SkillSignerFound,
  signaturePolicyFor,
} from "./signer.js";

export interface VerifySkillOptions {
  /** The .tar.gz bytes. */
  readonly archive: Uint8Array;
  /** The Sigstore bundle's bytes; undefined: there is none, and the skill is unsigned. */
  readonly bundle: Uint8Array | undefined;
  readonly bundleName?: string;
  readonly signer: SkillSigner;
  readonly trustedRoot: LoadedTrustedRoot;
  /** What the caller (a `skills` change, a command line) says the skill is. */
  readonly expected?: { readonly name?: string; readonly version?: string; readonly digest?: string };
}

export interface VerifiedSkill extends SkillArchive {
  readonly signer: SkillSignerFound;
  readonly trustedRoot: string;
}

/**
 * A skill is accepted only if all of it holds: its digest is the one expected, a Sigstore bundle
 * signs exactly these bytes and verifies against the trusted root, the signer is the one the policy
 * names, and SKILL.md agrees with the name and version expected. The first that fails is thrown.
 */
export function verifySkill(options: VerifySkillOptions): VerifiedSkill {
  const digest = skillDigest(options.archive);
  const expected = options.expected ?? {};
  if (expected.digest !== undefined && expected.digest !== digest) {
    throw new VerifyError(
      "IC_SKILL_DIGEST_MISMATCH",
      `the archive's digest is ${digest}, not the ${expected.digest} expected: it is another archive, or it was changed after it was signed`,
    );
  }
  const signer = verifySkillSignature(options);
  const skill = readSkillArchive(options.archive);
  const { manifest } = skill;
  if (expected.name !== undefined && manifest.name !== expected.name) {
    throw new VerifyError(
      "IC_SKILL_NAME_MISMATCH",
      `SKILL.md names the skill ${JSON.stringify(manifest.name)}, not ${JSON.stringify(expected.name)}`,
    );
  }
  if (expected.version !== undefined && manifest.version !== expected.version) {
    throw new VerifyError(
      "IC_SKILL_VERSION_MISMATCH",
      `SKILL.md gives version ${manifest.version}, not ${expected.version}`,
    );
  }
  const { trustedRoot, ...who } = signer;
  return { ...skill, signer: who, trustedRoot };
}

/**
 * The signature part alone: a bundle signs exactly these bytes, verifies against the trusted root,
 * and its signer is the one the policy names. Works on any blob, which is how foreign bundles test it.
 */
export function verifySkillSignature(
  options: Pick<VerifySkillOptions, "archive" | "bundle" | "bundleName" | "signer" | "trustedRoot">,
): SkillSignerFound & { readonly trustedRoot: string } {
  if (options.bundle === undefined) {
    throw new VerifyError(
      "IC_SKILL_UNSIGNED",
      `the skill is unsigned: there is no Sigstore bundle${options.bundleName === undefined ? "" : ` at ${options.bundleName}`}; sign it with \`ironclaw skills sign\` as ${describeSkillSigner(options.signer)}`,
    );
  }
  if (options.bundle.length > MAX_BUNDLE_BYTES) {
    throw new VerifyError("IC_BUNDLE_TOO_LARGE", `the bundle is larger than ${MAX_BUNDLE_BYTES} bytes`);
  }
  const parsed = parseBundleDocument(Buffer.from(options.bundle), options.bundleName ?? "the bundle");
  const result = verifySignature(parsed, artifactFromBytes(options.archive), {
    trustedRoot: options.trustedRoot,
    signer: signaturePolicyFor(options.signer),
  });
  if (result.content.kind !== "message-signature") {
    throw new VerifyError(
      "IC_SIGNATURE_ARTIFACT_MISMATCH",
      "the bundle holds a DSSE attestation, not a signature over the archive; sign the archive itself",
    );
  }
  return { ...checkSkillSigner(result, options.signer), trustedRoot: result.trustedRoot };
}
