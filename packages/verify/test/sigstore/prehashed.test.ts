import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { loadDigestOnlyVerifier, verifyPrehashedSha256 } from "../../src/sigstore/prehashed.js";
import { expectVerifyError } from "./expect-code.js";

// Digest-only ECDSA runs through @noble/curves, which is loaded on demand.
await loadDigestOnlyVerifier();

const message = Buffer.from("the artifact");
const digest = createHash("sha256").update(message).digest();
const otherDigest = createHash("sha256").update("another artifact").digest();

describe("verifyPrehashedSha256", () => {
  it.each(["P-256", "P-384", "P-521"])("verifies ECDSA %s signatures from the digest alone", (namedCurve) => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve });
    const signature = sign("sha256", message, privateKey);
    expect(verifyPrehashedSha256(publicKey, digest, signature)).toBe(true);
    expect(verifyPrehashedSha256(publicKey, otherDigest, signature)).toBe(false);
    const tampered = Buffer.from(signature);
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1;
    expect(verifyPrehashedSha256(publicKey, digest, tampered)).toBe(false);
    expect(verifyPrehashedSha256(publicKey, digest, Buffer.from("not DER"))).toBe(false);
  });

  it("verifies RSA PKCS#1 v1.5 signatures from the digest alone", () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const signature = sign("sha256", message, privateKey);
    expect(verifyPrehashedSha256(publicKey, digest, signature)).toBe(true);
    expect(verifyPrehashedSha256(publicKey, otherDigest, signature)).toBe(false);
    // A SHA-512 signature of the same message is not a SHA-256 one.
    expect(verifyPrehashedSha256(publicKey, digest, sign("sha512", message, privateKey))).toBe(false);
  });

  it("refuses another signer's signature, and a digest of the wrong length", () => {
    const one = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const two = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expect(verifyPrehashedSha256(two.publicKey, digest, sign("sha256", message, one.privateKey))).toBe(false);
    expect(
      verifyPrehashedSha256(one.publicKey, digest.subarray(1), sign("sha256", message, one.privateKey)),
    ).toBe(false);
  });

  it("says Ed25519 needs the artifact itself", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const error = expectVerifyError(
      () => verifyPrehashedSha256(publicKey, digest, sign(null, message, privateKey)),
      "IC_ARTIFACT_DIGEST_UNSUPPORTED",
    );
    expect(error.message).toContain("pass the artifact's file");
  });

  it("refuses digest-only ECDSA, as a programming error and never a verdict, until the verifier is loaded", async () => {
    vi.resetModules();
    const fresh = await import("../../src/sigstore/prehashed.js");
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signature = sign("sha256", message, privateKey);
    expect(() => fresh.verifyPrehashedSha256(publicKey, digest, signature)).toThrow(/loadDigestOnlyVerifier/);
    await fresh.loadDigestOnlyVerifier();
    expect(fresh.verifyPrehashedSha256(publicKey, digest, signature)).toBe(true);
  });
});
