import { constants, type KeyObject, publicDecrypt, timingSafeEqual } from "node:crypto";
import type * as Nist from "@noble/curves/nist.js";
import { VerifyError } from "../errors.js";

/** DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1): what PKCS#1 v1.5 signs around the digest. */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

type Curves = {
  readonly "P-256": typeof Nist.p256;
  readonly "P-384": typeof Nist.p384;
  readonly "P-521": typeof Nist.p521;
};
let curves: Curves | undefined;

/**
 * Loads what digest-only ECDSA needs. Evaluating @noble/curves builds three curves (about 4 ms),
 * which every verify-bundle and verify paid at start-up for a form few use; callers that take a
 * `sha256:<hex>` artifact await this first. Idempotent.
 */
export async function loadDigestOnlyVerifier(): Promise<void> {
  if (curves !== undefined) return;
  const { p256, p384, p521 } = await import("@noble/curves/nist.js");
  curves = { "P-256": p256, "P-384": p384, "P-521": p521 };
}

/**
 * Verifies a signature given only the SHA-256 of the signed bytes (the `sha256:<hex>` form of an
 * artifact). Node's crypto always hashes its input, so ECDSA goes through @noble/curves with
 * prehash off, and RSA PKCS#1 v1.5 through the public-key operation and an exact DigestInfo
 * comparison. Keys that sign the message itself (Ed25519) cannot be checked this way.
 */
export function verifyPrehashedSha256(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (digest.length !== 32) return false;
  switch (key.asymmetricKeyType) {
    case "ec":
      return verifyEcdsa(key, digest, signature);
    case "rsa":
      return verifyRsaPkcs1(key, digest, signature);
    default:
      throw new VerifyError(
        "IC_ARTIFACT_DIGEST_UNSUPPORTED",
        `a ${key.asymmetricKeyType ?? "unknown"} key signs the artifact itself, not its digest; pass the artifact's file instead of sha256:<hex>`,
      );
  }
}

function verifyEcdsa(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  // A programming error, never a verdict: the caller did not await loadDigestOnlyVerifier().
  if (curves === undefined)
    throw new Error("digest-only ECDSA verification needs loadDigestOnlyVerifier() first");
  const jwk = key.export({ format: "jwk" });
  const curve = curves[jwk.crv as keyof Curves];
  if (curve === undefined || jwk.x === undefined || jwk.y === undefined) {
    throw new VerifyError(
      "IC_ARTIFACT_DIGEST_UNSUPPORTED",
      `ECDSA on curve ${jwk.crv ?? "unknown"} is not supported for digest-only verification`,
    );
  }
  const point = Buffer.concat([
    Buffer.from([4]),
    Buffer.from(jwk.x, "base64url"),
    Buffer.from(jwk.y, "base64url"),
  ]);
  try {
    // High-S signatures are valid ECDSA (OpenSSL accepts them), so they are accepted here too.
    return curve.verify(signature, digest, point, { prehash: false, lowS: false, format: "der" });
  } catch {
    return false;
  }
}

function verifyRsaPkcs1(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([SHA256_DIGEST_INFO, digest]);
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}
