import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import {
  artifactFromBytes,
  artifactFromDigest,
  loadDigestOnlyVerifier,
  parseBundleDocument,
  parseTrustedRoot,
  parseTrustedRoots,
  verifySignature,
} from "@ironclaw/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { realFile } from "../real-world/fixtures.js";
import { type EditableJson, expectVerifyError } from "./expect-code.js";

// Digest-only ECDSA runs through @noble/curves, which is loaded on demand.
await loadDigestOnlyVerifier();

const any = { kind: "any-trusted-certificate" as const };

describe("JSON Lines of trusted roots, as `gh attestation trusted-root` prints them", () => {
  // Real roots and bundles: gh's public-good trusted_root.json with npm provenance, and
  // sigstore-go's scaffolding.json with its othername bundle (test/fixtures/real-world/NOTICE).
  const lines = `${realFile("gh-cli/trusted_root.json").toString("utf8").trim()}\n${JSON.stringify(
    JSON.parse(realFile("sigstore-go/trusted-roots/scaffolding.json").toString("utf8")),
  )}\n`;
  const roots = parseTrustedRoots(Buffer.from(lines), "roots.jsonl");

  it("verifies each bundle under the root whose CA issued its certificate", () => {
    expect(roots.alternatives).toHaveLength(2);
    const npm = verifySignature(
      parseBundleDocument(realFile("gh-cli/sigstore-js-2.1.0-bundle.json")),
      undefined,
      { trustedRoot: roots, signer: any },
    );
    expect(npm.trustedRoot).toBe("roots.jsonl (line 1 of 2)");
    const othername = verifySignature(
      parseBundleDocument(realFile("sigstore-go/bundles/othername.sigstore.json")),
      artifactFromDigest("sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b"),
      { trustedRoot: roots, signer: any },
    );
    expect(othername.trustedRoot).toBe("roots.jsonl (line 2 of 2)");
  });

  it("reads one pretty-printed root as one root, and refuses a bad line with its number", () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(lines.split("\n")[0] ?? ""), null, 2));
    expect(parseTrustedRoots(pretty, "pretty.json").alternatives).toBeUndefined();
    const error = expectVerifyError(
      () => parseTrustedRoots(Buffer.from(`${lines}{"mediaType": 1}\n`), "bad.jsonl"),
      "IC_TRUSTED_ROOT_INVALID",
    );
    expect(error.message).toContain("line 3 of 3");
  });
});

describe("a private Sigstore instance: a root with no transparency log", () => {
  // Self-made: GitHub's private-instance root is served only by its TUF repository, and no public
  // test data holds one. The local instance's root without its Rekor stands for it; its CT log
  // stays, since the local Fulcio always embeds SCTs (GitHub's certificates carry none).
  let sigstore: LocalSigstore;
  let privateRoot: ReturnType<typeof parseTrustedRoot>;
  let publicRoot: ReturnType<typeof parseTrustedRoot>;
  const identity = githubWorkflowIdentity({
    repository: "acme/private",
    ref: "refs/heads/main",
    sha: "a".repeat(40),
  });
  const ARTIFACT = Buffer.from("private artifact");
  beforeAll(async () => {
    sigstore = await LocalSigstore.start();
    const root = structuredClone(sigstore.trustedRoot) as EditableJson;
    publicRoot = parseTrustedRoot(Buffer.from(JSON.stringify(root)), "with logs");
    root.tlogs = [];
    privateRoot = parseTrustedRoot(Buffer.from(JSON.stringify(root)), "private instance");
  });
  afterAll(async () => {
    await sigstore.stop();
  });
  const withoutLog = async () => {
    const bundle = (await sigstore.signMessage(ARTIFACT, identity)) as EditableJson;
    bundle.verificationMaterial.tlogEntries = [];
    return bundle;
  };
  const check = (bundle: EditableJson, root: ReturnType<typeof parseTrustedRoot>) =>
    verifySignature(parseBundleDocument(Buffer.from(JSON.stringify(bundle))), artifactFromBytes(ARTIFACT), {
      trustedRoot: root,
      signer: any,
    });

  it("verifies a bundle with no log entry by its verified RFC 3161 timestamp", async () => {
    const result = check(await withoutLog(), privateRoot);
    expect(result.transparencyLog).toEqual([]);
    expect(result.timestamps.map((t) => t.source)).toEqual(["timestamp-authority"]);
  });

  it("refuses it without a verified timestamp from the instance's authority", async () => {
    const none = await withoutLog();
    delete none.verificationMaterial.timestampVerificationData;
    const error = expectVerifyError(() => check(none, privateRoot), "IC_SIGNATURE_TIMESTAMP");
    expect(error.message).toContain("private Sigstore instance");
    const other = await withoutLog();
    const foreign = (await sigstore.signMessage(Buffer.from("other"), identity)) as EditableJson;
    other.verificationMaterial.timestampVerificationData =
      foreign.verificationMaterial.timestampVerificationData;
    expectVerifyError(() => check(other, privateRoot), "IC_SIGNATURE_TIMESTAMP");
  });

  it("still requires the log under a root that has one", async () => {
    const bundle = await withoutLog();
    expectVerifyError(() => check(bundle, publicRoot), "IC_SIGNATURE_TLOG");
  });
});

describe("a root with neither log", () => {
  it("says a certificate's SCTs cannot verify when the root has no CT log", async () => {
    const sigstore = await LocalSigstore.start();
    try {
      const root = structuredClone(sigstore.trustedRoot) as EditableJson;
      root.tlogs = [];
      root.ctlogs = [];
      const noLogs = parseTrustedRoot(Buffer.from(JSON.stringify(root)), "no logs");
      const identity = githubWorkflowIdentity({
        repository: "acme/x",
        ref: "refs/heads/main",
        sha: "b".repeat(40),
      });
      const bundle = (await sigstore.signMessage(Buffer.from("x"), identity)) as EditableJson;
      bundle.verificationMaterial.tlogEntries = [];
      expectVerifyError(
        () =>
          verifySignature(
            parseBundleDocument(Buffer.from(JSON.stringify(bundle))),
            artifactFromBytes(Buffer.from("x")),
            {
              trustedRoot: noLogs,
              signer: any,
            },
          ),
        "IC_SIGNATURE_CERTIFICATE",
      );
    } finally {
      await sigstore.stop();
    }
  });
});
