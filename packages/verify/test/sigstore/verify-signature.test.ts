import { createHash, generateKeyPairSync } from "node:crypto";
import { githubWorkflowIdentity, inTotoStatement } from "@ironclaw/sigstore-local";
import {
  artifactFromDigest,
  loadDigestOnlyVerifier,
  matchingRegexp,
  verifySignature,
} from "@ironclaw/verify";
import { beforeAll, describe, expect, it } from "vitest";
import { type EditableJson, expectVerifyError } from "./expect-code.js";
import {
  ARTIFACT,
  COMMIT,
  flipBase64,
  IDENTITY,
  ISSUER,
  keyless,
  parse,
  RELEASE_IDENTITY,
  REPOSITORY,
  TAG_REF,
  useLocalSigstore,
  verify,
} from "./local-instance.js";

// Digest-only ECDSA runs through @noble/curves, which is loaded on demand.
await loadDigestOnlyVerifier();

const sigstore = useLocalSigstore();
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const signRelease = async () => (await sigstore.ours.signMessage(ARTIFACT, RELEASE_IDENTITY)) as EditableJson;

describe("a keyless message signature from the local instance", () => {
  it("verifies, and reports the signer and every GitHub claim Fulcio attested", async () => {
    const result = verify(await signRelease(), sigstore.root);
    expect(result.artifactSha256).toBe(sha256(ARTIFACT));
    expect(result.signer).toMatchObject({
      kind: "certificate",
      subjectAlternativeName: IDENTITY,
      issuer: ISSUER,
      extensions: {
        issuer: ISSUER,
        buildSignerUri: IDENTITY,
        buildSignerDigest: COMMIT,
        runnerEnvironment: "github-hosted",
        sourceRepositoryUri: `https://github.com/${REPOSITORY}`,
        sourceRepositoryDigest: COMMIT,
        sourceRepositoryRef: TAG_REF,
        sourceRepositoryOwnerUri: "https://github.com/acme",
        buildConfigUri: IDENTITY,
        buildConfigDigest: COMMIT,
        buildTrigger: "push",
        runInvocationUri: `https://github.com/${REPOSITORY}/actions/runs/1/attempts/1`,
        sourceRepositoryVisibilityAtSigning: "public",
        githubWorkflowRepository: REPOSITORY,
        githubWorkflowRef: TAG_REF,
        githubWorkflowSha: COMMIT,
      },
    });
    expect(result.transparencyLog).toHaveLength(1);
    expect(result.transparencyLog[0]).toMatchObject({ kind: "hashedrekord", version: "0.0.1" });
    expect(result.timestamps.map((t) => t.source).sort()).toEqual([
      "timestamp-authority",
      "transparency-log",
    ]);
    expect(result.trustedRoot).toBe("local test instance");
  });

  it("verifies from the artifact's sha256 alone", async () => {
    const result = verifySignature(
      parse(await signRelease()),
      artifactFromDigest(`sha256:${sha256(ARTIFACT)}`),
      {
        trustedRoot: sigstore.root,
        signer: keyless(),
      },
    );
    expect(result.artifactSha256).toBe(sha256(ARTIFACT));
  });

  it("accepts an anchored regular expression that covers the identity", async () => {
    const signer = {
      kind: "certificate" as const,
      identity: {
        subjectAlternativeName: matchingRegexp(
          "https://github\\.com/acme/tool/\\.github/workflows/release\\.yml@refs/tags/v.*",
          "identity",
        ),
        issuer: matchingRegexp("https://token\\.actions\\.githubusercontent\\.com", "issuer"),
      },
    };
    expect(verify(await signRelease(), sigstore.root, ARTIFACT, signer).signer.kind).toBe("certificate");
  });
});

describe("identity policy on a valid signature", () => {
  let signed: EditableJson;
  const bundle = () => signed;
  beforeAll(async () => {
    signed = await signRelease();
  });

  it("refuses another identity", async () => {
    const bundle = await signRelease();
    const other = "https://github.com/acme/other/.github/workflows/release.yml@refs/tags/v1.2.3";
    const error = expectVerifyError(
      () => verify(bundle, sigstore.root, ARTIFACT, keyless(other)),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
    expect(error.message).toContain(IDENTITY);
    expect(error.message).toContain(other);
  });

  it.each([
    ["a prefix", IDENTITY.slice(0, -6)],
    ["a suffix", IDENTITY.slice(8)],
    ["a substring", IDENTITY.slice(8, -6)],
    ["the repository alone", `https://github.com/${REPOSITORY}`],
  ])("refuses an expected identity that is %s of the signer's", async (_what, expected) => {
    expectVerifyError(
      () => verify(bundle(), sigstore.root, ARTIFACT, keyless(expected)),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
  });

  it("refuses a signer whose identity merely starts with the expected one", async () => {
    const longer = await sigstore.ours.signMessage(
      ARTIFACT,
      githubWorkflowIdentity({ repository: "acme/tool-fork", ref: TAG_REF, sha: COMMIT }),
    );
    expectVerifyError(
      () => verify(longer, sigstore.root, ARTIFACT, keyless(`https://github.com/acme/tool`)),
      "IC_POLICY_IDENTITY_MISMATCH",
    );
    const regexp = {
      kind: "certificate" as const,
      identity: {
        subjectAlternativeName: matchingRegexp("https://github\\.com/acme/tool/", "identity"),
        issuer: matchingRegexp(".*", "issuer"),
      },
    };
    expectVerifyError(() => verify(longer, sigstore.root, ARTIFACT, regexp), "IC_POLICY_IDENTITY_MISMATCH");
  });

  it.each([
    ["another issuer", "https://accounts.google.com"],
    ["a prefix of the issuer", "https://token.actions.githubusercontent"],
    ["the issuer with a suffix", `${ISSUER}/`],
  ])("refuses %s", async (_what, issuer) => {
    expectVerifyError(
      () => verify(bundle(), sigstore.root, ARTIFACT, keyless(IDENTITY, issuer)),
      "IC_POLICY_ISSUER_MISMATCH",
    );
  });

  it("refuses --key for a certificate-signed bundle rather than ignore the certificate", async () => {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    expectVerifyError(
      () => verify(bundle(), sigstore.root, ARTIFACT, { kind: "key", publicKey }),
      "IC_POLICY_SIGNER_KIND",
    );
  });
});

describe("tampering", () => {
  it("refuses a tampered artifact, as bytes and as a digest", async () => {
    const bundle = await signRelease();
    const tampered = Buffer.from(ARTIFACT);
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    expectVerifyError(() => verify(bundle, sigstore.root, tampered), "IC_SIGNATURE_ARTIFACT_MISMATCH");
    expectVerifyError(
      () =>
        verifySignature(parse(bundle), artifactFromDigest(`sha256:${sha256(tampered)}`), {
          trustedRoot: sigstore.root,
          signer: keyless(),
        }),
      "IC_SIGNATURE_ARTIFACT_MISMATCH",
    );
  });

  it("refuses a bundle made for another artifact", async () => {
    const other = await sigstore.ours.signMessage(Buffer.from("another file"), RELEASE_IDENTITY);
    expectVerifyError(() => verify(other, sigstore.root), "IC_SIGNATURE_ARTIFACT_MISMATCH");
  });

  it("refuses a bundle whose claimed digest was changed to the artifact's", async () => {
    const other = (await sigstore.ours.signMessage(
      Buffer.from("another file"),
      RELEASE_IDENTITY,
    )) as EditableJson;
    other.messageSignature.messageDigest.digest = createHash("sha256").update(ARTIFACT).digest("base64");
    expectVerifyError(() => verify(other, sigstore.root), "IC_SIGNATURE_TLOG_BODY");
  });

  it("refuses a tampered signature, wherever it is first caught", async () => {
    const bundle = await signRelease();
    bundle.messageSignature.signature = flipBase64(bundle.messageSignature.signature);
    // The timestamp authority signed the original signature, so its timestamp is set aside as
    // unverifiable (threshold semantics), and the log entry, which no longer matches, refuses it.
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TLOG_BODY");
    delete bundle.verificationMaterial.timestampVerificationData;
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TLOG_BODY");
  });

  it("refuses a tampered signed entry timestamp", async () => {
    const bundle = await signRelease();
    const entry = bundle.verificationMaterial.tlogEntries[0];
    entry.inclusionPromise.signedEntryTimestamp = flipBase64(entry.inclusionPromise.signedEntryTimestamp);
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TLOG");
  });

  it("refuses a tampered integrated time, which the SET covers", async () => {
    const bundle = await signRelease();
    const entry = bundle.verificationMaterial.tlogEntries[0];
    entry.integratedTime = String(Number(entry.integratedTime) + 1);
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TLOG");
  });

  it.each([
    ["the log index", (entry: EditableJson) => (entry.logIndex = String(Number(entry.logIndex) + 1))],
    [
      "the proof's log index",
      (entry: EditableJson) =>
        (entry.inclusionProof.logIndex = String(Number(entry.inclusionProof.logIndex ?? 0) + 1)),
    ],
    [
      "the proof's tree size",
      (entry: EditableJson) =>
        (entry.inclusionProof.treeSize = String(Number(entry.inclusionProof.treeSize) + 1)),
    ],
    [
      "the proof's root hash",
      (entry: EditableJson) => (entry.inclusionProof.rootHash = flipBase64(entry.inclusionProof.rootHash)),
    ],
    [
      "the checkpoint",
      (entry: EditableJson) =>
        (entry.inclusionProof.checkpoint.envelope = entry.inclusionProof.checkpoint.envelope.replace(
          "\n",
          "x\n",
        )),
    ],
    ["the entry kind's version", (entry: EditableJson) => (entry.kindVersion.version = "0.0.2")],
  ])("refuses a bundle with %s changed", async (_what, edit) => {
    const bundle = await signRelease();
    edit(bundle.verificationMaterial.tlogEntries[0]);
    const error = (() => {
      try {
        verify(bundle, sigstore.root);
      } catch (caught) {
        return caught as { code?: string };
      }
      return undefined;
    })();
    expect(error?.code).toMatch(/^IC_(SIGNATURE|BUNDLE)_/);
  });

  it("refuses a tampered log entry body", async () => {
    const bundle = await signRelease();
    const entry = bundle.verificationMaterial.tlogEntries[0];
    entry.canonicalizedBody = flipBase64(entry.canonicalizedBody);
    expect(() => verify(bundle, sigstore.root)).toThrow();
  });

  it("refuses a certificate from another CA", async () => {
    const foreign = await sigstore.foreign.signMessage(ARTIFACT, RELEASE_IDENTITY);
    expectVerifyError(() => verify(foreign, sigstore.root), "IC_SIGNATURE_CERTIFICATE");
  });

  it("refuses our certificate with another instance's log entry", async () => {
    const ours = await signRelease();
    const foreign = (await sigstore.foreign.signMessage(ARTIFACT, RELEASE_IDENTITY)) as EditableJson;
    ours.verificationMaterial.tlogEntries = foreign.verificationMaterial.tlogEntries;
    expect(() => verify(ours, sigstore.root)).toThrow();
  });
});

describe("cosign's legacy bundle", () => {
  it("round-trips: signed by the local instance, converted, verified", async () => {
    const legacy = await sigstore.ours.signLegacyCosign(ARTIFACT, RELEASE_IDENTITY);
    const result = verify(legacy, sigstore.root);
    expect(result.format).toBe("cosign-legacy-bundle");
    expect(result.signer).toMatchObject({ subjectAlternativeName: IDENTITY, issuer: ISSUER });
  });

  it.each([
    ["signature", (legacy: EditableJson) => (legacy.base64Signature = flipBase64(legacy.base64Signature))],
    [
      "signed entry timestamp",
      (legacy: EditableJson) =>
        (legacy.rekorBundle.SignedEntryTimestamp = flipBase64(legacy.rekorBundle.SignedEntryTimestamp)),
    ],
    ["integrated time", (legacy: EditableJson) => (legacy.rekorBundle.Payload.integratedTime += 1)],
    ["log index", (legacy: EditableJson) => (legacy.rekorBundle.Payload.logIndex += 1)],
  ])("is refused with a tampered %s", async (_what, edit) => {
    const legacy = (await sigstore.ours.signLegacyCosign(
      ARTIFACT,
      RELEASE_IDENTITY,
    )) as unknown as EditableJson;
    edit(legacy);
    expect(() => verify(legacy, sigstore.root)).toThrow();
  });
});

describe("a DSSE envelope over an in-toto statement", () => {
  const statement = (digest: string) =>
    Buffer.from(
      JSON.stringify(
        inTotoStatement([{ name: "ironclaw.tar.gz", sha256: digest }], "https://slsa.dev/provenance/v1", {}),
      ),
    );

  it("verifies when the artifact is a subject", async () => {
    const bundle = await sigstore.ours.signDsse(
      statement(sha256(ARTIFACT)),
      "application/vnd.in-toto+json",
      RELEASE_IDENTITY,
    );
    const result = verify(bundle, sigstore.root);
    expect(result.content).toMatchObject({ kind: "dsse", payloadType: "application/vnd.in-toto+json" });
    expect(result.transparencyLog[0]?.kind).toBe("dsse");
  });

  it("verifies through an intoto log entry, as older clients wrote", async () => {
    const bundle = await sigstore.ours.signDsse(
      statement(sha256(ARTIFACT)),
      "application/vnd.in-toto+json",
      RELEASE_IDENTITY,
      {
        rekorEntryType: "intoto",
      },
    );
    expect(verify(bundle, sigstore.root).transparencyLog[0]?.kind).toBe("intoto");
  });

  it("refuses an artifact that is not among the subjects", async () => {
    const bundle = await sigstore.ours.signDsse(
      statement("ab".repeat(32)),
      "application/vnd.in-toto+json",
      RELEASE_IDENTITY,
    );
    const error = expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_ARTIFACT_MISMATCH");
    expect(error.message).toContain("ironclaw.tar.gz");
  });

  it("refuses a payload changed after signing", async () => {
    const bundle = (await sigstore.ours.signDsse(
      statement(sha256(ARTIFACT)),
      "application/vnd.in-toto+json",
      RELEASE_IDENTITY,
    )) as EditableJson;
    const payload = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
    payload.predicate = { forged: true };
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString("base64");
    expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_TLOG_BODY");
  });
});

describe("bundles broken anywhere", () => {
  /** Every base64 field of a bundle, as a path into it. */
  function base64Paths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
    if (typeof value === "string") return /^[A-Za-z0-9+/]{8,}={0,2}$/.test(value) ? [path] : [];
    if (Array.isArray(value)) return value.flatMap((item, index) => base64Paths(item, [...path, index]));
    if (typeof value === "object" && value !== null) {
      return Object.entries(value).flatMap(([key, item]) => base64Paths(item, [...path, key]));
    }
    return [];
  }

  it("fail with a typed error, never an exception and never a silent pass, whichever base64 field is flipped", async () => {
    const original = await signRelease();
    const paths = base64Paths(original);
    expect(paths.length).toBeGreaterThan(8);
    for (const path of paths) {
      const broken = structuredClone(original);
      const parent = path.slice(0, -1).reduce<EditableJson>((node, key) => node[key], broken);
      const key = path.at(-1) as string | number;
      parent[key] = flipBase64(parent[key]);
      let result: ReturnType<typeof verify> | undefined;
      const error = (() => {
        try {
          result = verify(broken, sigstore.root);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      // An RFC 3161 timestamp is one time source of several: a broken one is set aside and
      // reported (threshold semantics), the log's time still counts. Nothing else may pass.
      if (error === undefined && path.join(".").includes("rfc3161Timestamps")) {
        expect(result?.unverifiedTimestamps, `flipping ${path.join(".")} must be reported`).toHaveLength(1);
        continue;
      }
      expect(error, `flipping ${path.join(".")} must be refused`).toBeInstanceOf(Error);
      expect((error as { code?: string }).code, `flipping ${path.join(".")}`).toMatch(/^IC_/);
    }
  });

  it("fail with a typed error for a certificate that is not DER", async () => {
    const bundle = await signRelease();
    bundle.verificationMaterial.certificate.rawBytes = Buffer.from("not a certificate").toString("base64");
    const error = expectVerifyError(() => verify(bundle, sigstore.root), "IC_SIGNATURE_FAILED");
    expect(error.cause).toBeDefined();
  });
});
