import {
  artifactFromBytes,
  artifactFromDigest,
  loadDigestOnlyVerifier,
  parseBundleDocument,
  parseTrustedRoot,
  publicGoodTrustedRoot,
  verifySignature,
} from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { realFile } from "../real-world/fixtures.js";
import { type EditableJson, expectVerifyError } from "./expect-code.js";

// Digest-only ECDSA runs through @noble/curves, which is loaded on demand.
await loadDigestOnlyVerifier();

// Real bundles: a self-hosted Rekor v1 (sigstore-go's othername.sigstore.json under its
// scaffolding.json root, verified in pkg/verify/signed_entity_test.go TestEntityWithOthernameSan),
// public-good Rekor v1 (gh's npm provenance of sigstore@2.1.0) and staging Rekor v2
// (sigstore-python's staging-rekor-v2.txt.sigstore.json, test_verifier.py).
const any = { kind: "any-trusted-certificate" as const };
const NPM = JSON.parse(realFile("gh-cli/sigstore-js-2.1.0-bundle.json").toString("utf8")) as EditableJson;
const parse = (document: unknown) => parseBundleDocument(Buffer.from(JSON.stringify(document)));
const verifyNpm = (document: unknown) =>
  verifySignature(parse(document), undefined, { trustedRoot: publicGoodTrustedRoot(), signer: any });

function withCheckpoint(edit: (envelope: string) => string): EditableJson {
  const copy = structuredClone(NPM);
  const proof = copy.verificationMaterial.tlogEntries[0].inclusionProof;
  proof.checkpoint.envelope = edit(proof.checkpoint.envelope);
  return copy;
}

describe("checkpoints are verified by the log's key id and an exact origin", () => {
  it("verifies a self-hosted Rekor v1 whose signer name has nothing to do with its URL", () => {
    const root = parseTrustedRoot(realFile("sigstore-go/trusted-roots/scaffolding.json"), "scaffolding");
    const result = verifySignature(
      parseBundleDocument(realFile("sigstore-go/bundles/othername.sigstore.json")),
      artifactFromDigest("sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b"),
      { trustedRoot: root, signer: any },
    );
    expect(result.transparencyLog).toHaveLength(1);
  });

  it("verifies public-good Rekor v1 and staging Rekor v2 checkpoints as they are", () => {
    expect(verifyNpm(NPM).transparencyLog).toHaveLength(1);
    const staging = parseTrustedRoot(realFile("sigstore-python/staging_trusted_root.json"), "staging");
    const v2 = verifySignature(
      parseBundleDocument(realFile("sigstore-python/staging-rekor-v2.txt.sigstore.json")),
      artifactFromBytes(realFile("sigstore-python/staging-rekor-v2.txt")),
      { trustedRoot: staging, signer: any },
    );
    expect(v2.transparencyLog[0]?.version).toBe("0.0.2");
  });

  it.each([
    ["a regular expression that matches any log URL", ".*"],
    ["the log's name written as an escaped regular expression", "rekor\\.sigstore\\.dev"],
    ["another log's name", "rekor.sigstage.dev"],
    ["a name with a tree id of its own", "rekor.sigstore.dev - 1"],
  ])(
    "refuses a signer name that is %s (the name is not signed, so only the check can catch it)",
    (_what, name) => {
      const edited = withCheckpoint((envelope) =>
        envelope.replace("\u2014 rekor.sigstore.dev ", `\u2014 ${name} `),
      );
      const error = expectVerifyError(() => verifyNpm(edited), "IC_SIGNATURE_TLOG");
      expect(error.message).toContain("origin");
    },
  );

  it("refuses a changed origin, size or root hash: the signature no longer verifies", () => {
    for (const edit of [
      (e: string) =>
        e.replace("rekor.sigstore.dev - 2605736670972794746", "rekor.sigstore.dev - 2605736670972794747"),
      (e: string) => `other.example - 1\n${e.slice(e.indexOf("\n") + 1)}`,
    ]) {
      expectVerifyError(() => verifyNpm(withCheckpoint(edit)), "IC_SIGNATURE_TLOG");
    }
  });

  it("refuses a checkpoint signed by a key of no log in the root, or not signed at all", () => {
    const unsigned = withCheckpoint((envelope) => envelope.slice(0, envelope.indexOf("\n\n") + 2));
    expectVerifyError(() => verifyNpm(unsigned), "IC_SIGNATURE_TLOG");
    const otherLog = structuredClone(NPM);
    otherLog.verificationMaterial.tlogEntries[0].logId.keyId = Buffer.alloc(32, 1).toString("base64");
    expectVerifyError(() => verifyNpm(otherLog), "IC_SIGNATURE_TLOG");
  });
});
