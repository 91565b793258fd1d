import { createPublicKey, type KeyObject } from "node:crypto";
import { resolve } from "node:path";
import { VerifyError } from "@ironclaw/verify/errors";
// Not from @ironclaw/verify/release: that brings the release and attestation checks into this command.
import { readNamed as readInputFile } from "@ironclaw/verify/files";
import {
  type Artifact,
  artifactFromBytes,
  artifactFromDigest,
  exactly,
  type LoadedTrustedRoot,
  loadDigestOnlyVerifier,
  looksLikeDigest,
  MAX_BUNDLE_BYTES,
  matchingRegexp,
  parseBundleDocument,
  parseTrustedRoots,
  publicGoodTrustedRoot,
  type SignerPolicy,
  verifySignature,
} from "@ironclaw/verify/sigstore";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";
import type { CommandIo } from "../io.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";
import { renderSignatureReport, signatureReportDocument } from "./signature-report.js";

export interface VerifyBundleOptions extends JsonOption {
  readonly bundle: string;
  readonly certificateIdentity?: string;
  readonly certificateIdentityRegexp?: string;
  readonly certificateOidcIssuer?: string;
  readonly certificateOidcIssuerRegexp?: string;
  readonly key?: string;
  readonly trustedRoot?: string;
  readonly signature?: string;
  readonly certificate?: string;
}

/** Keyless needs one identity form and one issuer form; --key excludes both. */
export async function signerPolicyFrom(options: VerifyBundleOptions, cwd: string): Promise<SignerPolicy> {
  const identityForms = [options.certificateIdentity, options.certificateIdentityRegexp].filter(
    (v) => v !== undefined,
  );
  const issuerForms = [options.certificateOidcIssuer, options.certificateOidcIssuerRegexp].filter(
    (v) => v !== undefined,
  );
  if (options.key !== undefined) {
    if (identityForms.length + issuerForms.length > 0) {
      throw new CliError(
        "IC_USAGE",
        "--key verifies a key-signed bundle; it cannot be combined with --certificate-* flags",
      );
    }
    return { kind: "key", publicKey: await readPublicKey(resolve(cwd, options.key)) };
  }
  if (identityForms.length !== 1 || issuerForms.length !== 1) {
    throw new CliError(
      "IC_USAGE",
      "give exactly one of --certificate-identity / --certificate-identity-regexp and exactly one of --certificate-oidc-issuer / --certificate-oidc-issuer-regexp (or --key for a key-signed bundle)",
    );
  }
  return {
    kind: "certificate",
    identity: {
      subjectAlternativeName:
        options.certificateIdentity !== undefined
          ? exactly(options.certificateIdentity, "certificate identity")
          : matchingRegexp(options.certificateIdentityRegexp ?? "", "certificate identity"),
      issuer:
        options.certificateOidcIssuer !== undefined
          ? exactly(options.certificateOidcIssuer, "OIDC issuer")
          : matchingRegexp(options.certificateOidcIssuerRegexp ?? "", "OIDC issuer"),
    },
  };
}

async function readPublicKey(path: string): Promise<KeyObject> {
  const pem = await readInputFile(path, "the public key");
  try {
    return createPublicKey(pem);
  } catch (cause) {
    throw new VerifyError(
      "IC_POLICY_INVALID",
      `${path} is not a PEM or DER public key: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * --trusted-root, else IRONCLAW_TRUSTED_ROOT (as cosign reads SIGSTORE_ROOT_FILE), else the embedded
 * public-good root. Reports name the root they used, so a root set in the environment is never silent.
 */
export async function loadTrustedRoot(
  path: string | undefined,
  io: Pick<CommandIo, "cwd" | "env">,
): Promise<LoadedTrustedRoot> {
  const fromEnvironment = path === undefined ? io.env.IRONCLAW_TRUSTED_ROOT : undefined;
  const chosen = path ?? (fromEnvironment === "" ? undefined : fromEnvironment);
  if (chosen === undefined) return publicGoodTrustedRoot();
  const absolute = resolve(io.cwd, chosen);
  const origin = fromEnvironment === undefined ? absolute : `${absolute} (from IRONCLAW_TRUSTED_ROOT)`;
  return parseTrustedRoots(await readInputFile(absolute, "the trusted root"), origin);
}

const MAX_ARTIFACT_BYTES = 2 ** 31 - 1;

async function readArtifact(
  argument: string,
  cwd: string,
): Promise<{ artifact: Artifact; path: string | null }> {
  if (looksLikeDigest(argument)) {
    const artifact = artifactFromDigest(argument);
    await loadDigestOnlyVerifier();
    return { artifact, path: null };
  }
  const path = resolve(cwd, argument);
  // The artifact is read whole (sigstore-js takes bytes); still a regular file only, and bounded.
  const bytes = await readInputFile(path, "the artifact", undefined, { maxBytes: MAX_ARTIFACT_BYTES });
  return { artifact: artifactFromBytes(bytes), path };
}

export async function verifyBundleAction(
  target: string,
  options: VerifyBundleOptions,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  if (options.signature !== undefined || options.certificate !== undefined) {
    throw new VerifyError(
      "IC_BUNDLE_DETACHED_SIGNATURE",
      "a detached signature and certificate cannot be verified offline: without the bundle there is no transparency-log entry to check. Sign with `cosign sign-blob --bundle F` and pass --bundle F",
    );
  }
  const signer = await signerPolicyFrom(options, io.cwd);
  const trustedRoot = await loadTrustedRoot(options.trustedRoot, io);
  const bundlePath = resolve(io.cwd, options.bundle);
  const parsed = parseBundleDocument(
    await readInputFile(bundlePath, "the bundle", undefined, {
      maxBytes: MAX_BUNDLE_BYTES,
      tooLargeCode: "IC_BUNDLE_TOO_LARGE",
    }),
    bundlePath,
  );
  const { artifact, path } = await readArtifact(target, io.cwd);
  const result = verifySignature(parsed, artifact, { trustedRoot, signer });
  const reportContext = { bundle: bundlePath, artifact: path };
  if (options.json === true) writeJson(io, signatureReportDocument(result, reportContext));
  else io.stdout.write(renderSignatureReport(result, reportContext));
  context.setExitCode(ExitCode.ok);
}
