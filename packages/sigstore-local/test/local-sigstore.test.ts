import { createHash, createPublicKey, X509Certificate as NodeX509Certificate, verify } from "node:crypto";
import type { SerializedBundle } from "@ironclaw/sigstore-local";
import {
  GITHUB_ACTIONS_ISSUER,
  githubWorkflowIdentity,
  IN_TOTO_PAYLOAD_TYPE,
  inTotoStatement,
  LocalSigstore,
  TRUSTED_ROOT_MEDIA_TYPE,
} from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accepts, extension, leafCertificate, verifyBundle } from "./helpers.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const identity = githubWorkflowIdentity({
  repository: "ironclaw/ironclaw",
  ref: "refs/tags/v1.2.3",
  sha: SHA,
  runId: "4242",
  runAttempt: "2",
  repositoryId: "1001",
  ownerId: "2002",
});
const artifact = new TextEncoder().encode("ironclaw-1.2.3.tar.gz contents\n");
const artifactSha256 = createHash("sha256").update(artifact).digest("hex");

let sigstore: LocalSigstore;
let other: LocalSigstore;
// One signing each, shared by the tests that only read them: each signing costs ~100 ms of ASN.1 work.
let bundle: SerializedBundle;
let foreign: SerializedBundle;

beforeAll(async () => {
  [sigstore, other] = await Promise.all([LocalSigstore.start(), LocalSigstore.start()]);
  [bundle, foreign] = await Promise.all([
    sigstore.signMessage(artifact, identity),
    other.signMessage(artifact, identity),
  ]);
});

afterAll(async () => {
  await Promise.all([sigstore.stop(), other.stop()]);
});

describe("trusted root", () => {
  it("is a trusted_root.json for the instance's own services", () => {
    const root = sigstore.trustedRoot as {
      mediaType: string;
      tlogs: { baseUrl: string; logId: { keyId: string }; publicKey: { rawBytes: string } }[];
      ctlogs: { logId: { keyId: string }; publicKey: { rawBytes: string } }[];
      certificateAuthorities: { uri: string; validFor: { start: string } }[];
      timestampAuthorities: { uri: string; certChain: { certificates: unknown[] } }[];
    };
    expect(root.mediaType).toBe(TRUSTED_ROOT_MEDIA_TYPE);
    expect(root.tlogs.map((t) => t.baseUrl)).toEqual([sigstore.urls.rekor]);
    expect(root.certificateAuthorities.map((c) => c.uri)).toEqual([sigstore.urls.fulcio]);
    expect(root.timestampAuthorities.map((t) => t.uri)).toEqual([sigstore.urls.tsa]);
    expect(root.timestampAuthorities[0]?.certChain.certificates).toHaveLength(2);
    expect(Date.parse(root.certificateAuthorities[0]?.validFor.start ?? "")).toBeLessThanOrEqual(Date.now());
    // Log ids are the SHA-256 of the DER public key, as Rekor and CT logs compute them.
    for (const log of [...root.tlogs, ...root.ctlogs]) {
      const spki = Buffer.from(log.publicKey.rawBytes, "base64");
      expect(log.logId.keyId).toBe(createHash("sha256").update(spki).digest("base64"));
    }
    for (const url of Object.values(sigstore.urls)) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe("signMessage", () => {
  it("makes a v0.3 bundle that verifies against the instance's root, for the requested identity", () => {
    expect(bundle.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
    expect(bundle.messageSignature?.messageDigest?.digest).toBe(
      Buffer.from(artifactSha256, "hex").toString("base64"),
    );
    const [entry] = bundle.verificationMaterial.tlogEntries;
    expect(entry?.kindVersion).toEqual({ kind: "hashedrekord", version: "0.0.1" });
    expect(entry?.inclusionPromise).toBeDefined();
    expect(entry?.inclusionProof).toBeDefined();
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);

    const signer = verifyBundle(sigstore.trustedRoot, bundle, artifact, {
      subjectAlternativeName: identity.subject,
      extensions: { issuer: GITHUB_ACTIONS_ISSUER },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(
      "https://github.com/ironclaw/ironclaw/.github/workflows/release.yml@refs/tags/v1.2.3",
    );
  });

  it("puts the GitHub workflow claims in the certificate's Fulcio extensions", () => {
    const cert = leafCertificate(bundle);
    const workflow = "ironclaw/ironclaw/.github/workflows/release.yml@refs/tags/v1.2.3";
    const expected: Record<string, string> = {
      "1.3.6.1.4.1.57264.1.1": GITHUB_ACTIONS_ISSUER,
      "1.3.6.1.4.1.57264.1.2": "push",
      "1.3.6.1.4.1.57264.1.3": SHA,
      "1.3.6.1.4.1.57264.1.5": "ironclaw/ironclaw",
      "1.3.6.1.4.1.57264.1.6": "refs/tags/v1.2.3",
      "1.3.6.1.4.1.57264.1.8": GITHUB_ACTIONS_ISSUER,
      "1.3.6.1.4.1.57264.1.9": `https://github.com/${workflow}`,
      "1.3.6.1.4.1.57264.1.10": SHA,
      "1.3.6.1.4.1.57264.1.11": "github-hosted",
      "1.3.6.1.4.1.57264.1.12": "https://github.com/ironclaw/ironclaw",
      "1.3.6.1.4.1.57264.1.13": SHA,
      "1.3.6.1.4.1.57264.1.14": "refs/tags/v1.2.3",
      "1.3.6.1.4.1.57264.1.15": "1001",
      "1.3.6.1.4.1.57264.1.16": "https://github.com/ironclaw",
      "1.3.6.1.4.1.57264.1.17": "2002",
      "1.3.6.1.4.1.57264.1.18": `https://github.com/${workflow}`,
      "1.3.6.1.4.1.57264.1.19": SHA,
      "1.3.6.1.4.1.57264.1.20": "push",
      "1.3.6.1.4.1.57264.1.21": "https://github.com/ironclaw/ironclaw/actions/runs/4242/attempts/2",
      "1.3.6.1.4.1.57264.1.22": "public",
    };
    for (const [oid, value] of Object.entries(expected))
      expect([oid, extension(cert, oid)]).toEqual([oid, value]);
    expect(cert.subjectAltName).toBe(`https://github.com/${workflow}`);
  });

  it("binds a reusable workflow as the signer and the caller as the build config", async () => {
    const reusable = githubWorkflowIdentity({
      repository: "ironclaw/ironclaw",
      ref: "refs/tags/v2.0.0",
      sha: SHA,
      jobWorkflowRef: "ironclaw/workflows/.github/workflows/release.yml@refs/heads/main",
      jobWorkflowSha: "f".repeat(40),
    });
    const signed = await sigstore.signMessage(artifact, reusable);
    verifyBundle(sigstore.trustedRoot, signed, artifact);
    const cert = leafCertificate(signed);
    expect(cert.subjectAltName).toBe(
      "https://github.com/ironclaw/workflows/.github/workflows/release.yml@refs/heads/main",
    );
    expect(extension(cert, "1.3.6.1.4.1.57264.1.9")).toBe(cert.subjectAltName);
    expect(extension(cert, "1.3.6.1.4.1.57264.1.10")).toBe("f".repeat(40));
    expect(extension(cert, "1.3.6.1.4.1.57264.1.18")).toBe(
      "https://github.com/ironclaw/ironclaw/.github/workflows/release.yml@refs/tags/v2.0.0",
    );
  });

  it("signs for an email identity from any issuer", async () => {
    const signed = await sigstore.signMessage(artifact, {
      subject: "releaser@example.com",
      issuer: "https://accounts.example.com",
    });
    const signer = verifyBundle(sigstore.trustedRoot, signed, artifact);
    expect(signer.identity?.subjectAlternativeName).toBe("releaser@example.com");
    expect(signer.identity?.extensions?.issuer).toBe("https://accounts.example.com");
  });

  it("does not verify for another artifact, nor against another instance's root", () => {
    expect(() => verifyBundle(sigstore.trustedRoot, bundle, new TextEncoder().encode("tampered"))).toThrow();
    expect(() => verifyBundle(other.trustedRoot, bundle, artifact)).toThrow();
    verifyBundle(other.trustedRoot, foreign, artifact);
    expect(() => verifyBundle(sigstore.trustedRoot, foreign, artifact)).toThrow();
  });
});

describe("signDsse", () => {
  const statement = inTotoStatement(
    [{ name: "ironclaw-1.2.3.tar.gz", sha256: artifactSha256 }],
    "https://slsa.dev/provenance/v1",
    { buildDefinition: { buildType: "https://example.com/build" } },
  );
  const payload = new TextEncoder().encode(JSON.stringify(statement));

  it.each(["dsse", "intoto"] as const)(
    "makes a v0.3 DSSE bundle with a Rekor %s entry that verifies",
    async (kind) => {
      const signed = await sigstore.signDsse(payload, IN_TOTO_PAYLOAD_TYPE, identity, {
        rekorEntryType: kind,
      });
      expect(signed.mediaType).toBe("application/vnd.dev.sigstore.bundle.v0.3+json");
      expect(signed.dsseEnvelope?.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
      expect(JSON.parse(Buffer.from(signed.dsseEnvelope?.payload ?? "", "base64").toString())).toEqual(
        statement,
      );
      expect(signed.verificationMaterial.tlogEntries[0]?.kindVersion?.kind).toBe(kind);
      const signer = verifyBundle(sigstore.trustedRoot, signed, undefined, {
        subjectAlternativeName: identity.subject,
      });
      expect(signer.identity?.extensions?.issuer).toBe(GITHUB_ACTIONS_ISSUER);
      expect(() => verifyBundle(other.trustedRoot, signed)).toThrow();
    },
  );

  it("logs the canonical dsse body, without the payload", async () => {
    const signed = await sigstore.signDsse(payload, IN_TOTO_PAYLOAD_TYPE, identity);
    const body = JSON.parse(
      Buffer.from(signed.verificationMaterial.tlogEntries[0]?.canonicalizedBody ?? "", "base64").toString(),
    );
    expect(Object.keys(body.spec).sort()).toEqual(["envelopeHash", "payloadHash", "signatures"]);
    expect(body.spec.payloadHash.value).toBe(createHash("sha256").update(payload).digest("hex"));
    expect(body.spec.signatures[0].signature).toBe(signed.dsseEnvelope?.signatures[0]?.sig);
  });
});

describe("signLegacyCosign", () => {
  it("writes cosign's legacy bundle, whose parts check out", async () => {
    const legacy = await sigstore.signLegacyCosign(artifact, identity);
    const pem = Buffer.from(legacy.cert, "base64").toString();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    const cert = new NodeX509Certificate(pem);
    expect(cert.subjectAltName).toBe(`URI:${identity.subject}`);
    expect(verify("sha256", artifact, cert.publicKey, Buffer.from(legacy.base64Signature, "base64"))).toBe(
      true,
    );

    const { Payload, SignedEntryTimestamp } = legacy.rekorBundle;
    const body = JSON.parse(Buffer.from(Payload.body, "base64").toString());
    expect(body).toMatchObject({ kind: "hashedrekord", spec: { data: { hash: { value: artifactSha256 } } } });
    const rekor = (sigstore.trustedRoot as { tlogs: { publicKey: { rawBytes: string } }[] }).tlogs[0];
    const rekorKey = createPublicKey({
      key: Buffer.from(rekor?.publicKey.rawBytes ?? "", "base64"),
      format: "der",
      type: "spki",
    });
    expect(Payload.logID).toBe(
      createHash("sha256")
        .update(rekorKey.export({ format: "der", type: "spki" }))
        .digest("hex"),
    );
    // The SET signs the canonical JSON of the payload (keys sorted, no spaces).
    const setPayload = JSON.stringify({
      body: Payload.body,
      integratedTime: Payload.integratedTime,
      logID: Payload.logID,
      logIndex: Payload.logIndex,
    });
    expect(
      verify("sha256", Buffer.from(setPayload), rekorKey, Buffer.from(SignedEntryTimestamp, "base64")),
    ).toBe(true);
  });
});

describe("options", () => {
  it("runs without a timestamp authority, the Rekor SET being the only timestamp", async () => {
    const plain = await LocalSigstore.start({ timestampAuthority: false });
    try {
      expect(plain.urls.tsa).toBeUndefined();
      expect(plain.trustedRoot.timestampAuthorities).toEqual([]);
      const signed = await plain.signMessage(artifact, identity);
      expect(signed.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).toEqual([]);
      verifyBundle(plain.trustedRoot, signed, artifact);
    } finally {
      await plain.stop();
    }
  });

  it("freezes time at the clock, and refuses a clock before its roots exist", async () => {
    const seconds = Math.floor(Date.now() / 1000) + 3600;
    const clock = new Date(seconds * 1000 + 120); // milliseconds too: X.509 and Rekor keep whole seconds
    const later = await LocalSigstore.start({ clock });
    try {
      const signed = await later.signMessage(artifact, identity);
      expect(signed.verificationMaterial.tlogEntries[0]?.integratedTime).toBe(String(seconds));
      expect(leafCertificate(signed).notBefore).toEqual(new Date(seconds * 1000));
      verifyBundle(later.trustedRoot, signed, artifact);
    } finally {
      await later.stop();
    }
    await expect(LocalSigstore.start({ clock: new Date("2020-01-01T00:00:00Z") })).rejects.toThrow(
      /clock 2020-01-01T00:00:00.000Z is outside the root certificates' validity/,
    );
    await expect(LocalSigstore.start({ clock: new Date(Number.NaN) })).rejects.toThrow(RangeError);
  });
});

describe("servers", () => {
  it("answer unknown paths and methods with clear errors", async () => {
    const missing = await fetch(`${sigstore.urls.rekor}/api/v1/log/entries/retrieve`, { method: "POST" });
    expect([missing.status, await missing.text()]).toEqual([
      404,
      "sigstore-local: no route for /api/v1/log/entries/retrieve",
    ]);
    const get = await fetch(`${sigstore.urls.fulcio}/api/v2/signingCert`);
    expect(get.status).toBe(405);
    // One request per connection, so no client reuses a socket the server is closing (ECONNRESET).
    expect(get.headers.get("connection")).toBe("close");
    const bad = await fetch(`${sigstore.urls.rekor}/api/v1/log/entries`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
  });

  it("refuses to start when a proxy would intercept loopback requests", async () => {
    const keys = ["NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "proxy"];
    const saved = keys.map((key) => [key, process.env[key]] as const);
    try {
      for (const key of keys) Reflect.deleteProperty(process.env, key);
      process.env.HTTPS_PROXY = "http://proxy.invalid:3128";
      await expect(LocalSigstore.start()).rejects.toThrow(/add 127\.0\.0\.1 to NO_PROXY/);
      process.env.NO_PROXY = "localhost, 127.0.0.1";
      await (await LocalSigstore.start({ timestampAuthority: false })).stop();
    } finally {
      for (const [key, value] of saved) {
        if (value === undefined) Reflect.deleteProperty(process.env, key);
        else process.env[key] = value;
      }
    }
  });
});

describe("stop", () => {
  it("closes every port, and later signing fails clearly", async () => {
    const instance = await LocalSigstore.start();
    await instance.signMessage(artifact, identity); // leaves keep-alive connections open
    const urls = Object.values(instance.urls);
    expect(await Promise.all(urls.map(accepts))).toEqual(urls.map(() => true));
    await instance.stop();
    expect(await Promise.all(urls.map(accepts))).toEqual(urls.map(() => false));
    await expect(instance.signMessage(artifact, identity)).rejects.toThrow(/has been stopped/);
    await instance.stop();
  });
});
