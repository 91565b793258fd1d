import {
  artifactFromBytes,
  artifactFromDigest,
  loadDigestOnlyVerifier,
  parseBundleDocument,
  parseTrustedRoot,
  verifySignature,
} from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { realFile } from "../real-world/fixtures.js";
import { expectVerifyError } from "./expect-code.js";

// Digest-only ECDSA runs through @noble/curves, which is loaded on demand.
await loadDigestOnlyVerifier();

// A real staging bundle of sigstore-python (test/assets/bundle_v3.txt.sigstore, verified in its
// test_verifier.py). No public bundle omits messageDigest, so the test removes it: the field is not
// signed, so the signature, certificate and log entry stay what sigstore signed.
const root = parseTrustedRoot(realFile("sigstore-python/staging_trusted_root.json"), "staging");
const artifact = realFile("sigstore-python/bundle_v3.txt");
const original = JSON.parse(realFile("sigstore-python/bundle_v3.txt.sigstore").toString("utf8"));
const withoutDigest = structuredClone(original);
delete withoutDigest.messageSignature.messageDigest;
const parse = (document: unknown) => parseBundleDocument(Buffer.from(JSON.stringify(document)));
const any = { trustedRoot: root, signer: { kind: "any-trusted-certificate" as const } };

describe("a message signature without messageDigest (optional in protobuf-specs)", () => {
  it("verifies against the artifact's file, as the original does", () => {
    const reference = verifySignature(parse(original), artifactFromBytes(artifact), any);
    const result = verifySignature(parse(withoutDigest), artifactFromBytes(artifact), any);
    expect(result.artifactSha256).toBe(reference.artifactSha256);
    expect(result.signer).toEqual(reference.signer);
  });

  it("still refuses another file", () => {
    expectVerifyError(
      () => verifySignature(parse(withoutDigest), artifactFromBytes(Buffer.from("another file")), any),
      "IC_SIGNATURE_TLOG_BODY",
    );
  });

  it("refuses sha256:<hex>, since nothing in the bundle binds a digest, and says to give the file", () => {
    const digest = `sha256:${verifySignature(parse(original), artifactFromBytes(artifact), any).artifactSha256}`;
    expect(() => verifySignature(parse(original), artifactFromDigest(digest), any)).not.toThrow();
    const error = expectVerifyError(
      () => verifySignature(parse(withoutDigest), artifactFromDigest(digest), any),
      "IC_ARTIFACT_REQUIRED",
    );
    expect(error.message).toContain("no messageDigest");
  });

  it("still validates every other field", () => {
    const broken = structuredClone(withoutDigest);
    broken.messageSignature.signature = "";
    expectVerifyError(() => parse(broken), "IC_BUNDLE_INVALID");
  });
});
