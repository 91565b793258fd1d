import { createHash } from "node:crypto";
import { VerifyError } from "../errors.js";

/** What a signature is checked against: the artifact's bytes, or only its SHA-256 (`sha256:<hex>`). */
export type Artifact =
  | { readonly kind: "bytes"; readonly bytes: Buffer }
  | { readonly kind: "sha256"; readonly digest: Buffer };

const DIGEST_FORM = /^([a-z0-9-]+):(.*)$/;

export function artifactFromBytes(bytes: Uint8Array): Artifact {
  return { kind: "bytes", bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** Parses `sha256:<64 hex>`; another algorithm or a malformed digest is refused, never guessed. */
export function artifactFromDigest(text: string): Artifact {
  const match = DIGEST_FORM.exec(text);
  if (match === null) {
    throw new VerifyError(
      "IC_ARTIFACT_DIGEST_INVALID",
      `expected sha256:<64 hex digits>, found ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  const [, algorithm, hex = ""] = match;
  if (algorithm !== "sha256") {
    throw new VerifyError(
      "IC_ARTIFACT_DIGEST_UNSUPPORTED",
      `${algorithm} digests are not supported; give sha256:<hex> or the file`,
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new VerifyError(
      "IC_ARTIFACT_DIGEST_INVALID",
      `a SHA-256 digest is 64 hex digits; found ${hex.length} characters`,
    );
  }
  return { kind: "sha256", digest: Buffer.from(hex, "hex") };
}

/** `sha256:` or a path: how the conformance protocol, and cosign, take an artifact argument. */
export function looksLikeDigest(argument: string): boolean {
  return argument.startsWith("sha256:");
}

export function artifactDigest(
  artifact: Artifact,
  algorithm: "sha256" | "sha384" | "sha512" = "sha256",
): Buffer {
  if (artifact.kind === "bytes") return createHash(algorithm).update(artifact.bytes).digest();
  if (algorithm !== "sha256") {
    throw new VerifyError(
      "IC_ARTIFACT_DIGEST_UNSUPPORTED",
      `the bundle signs a ${algorithm} digest; give the artifact's file instead of sha256:<hex>`,
    );
  }
  return artifact.digest;
}
