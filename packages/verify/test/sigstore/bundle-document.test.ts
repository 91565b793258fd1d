import { MAX_BUNDLE_BYTES, parseBundleDocument } from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { type EditableJson, expectVerifyError } from "./expect-code.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Structurally valid v0.3 bundle; its bytes are not meant to verify, only to parse. */
function messageBundle(): EditableJson {
  return {
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: {
      certificate: { rawBytes: b64("certificate") },
      tlogEntries: [
        {
          logIndex: "12",
          logId: { keyId: b64("log") },
          kindVersion: { kind: "hashedrekord", version: "0.0.1" },
          integratedTime: "1700000000",
          inclusionPromise: { signedEntryTimestamp: b64("set") },
          inclusionProof: {
            logIndex: "12",
            rootHash: b64("root"),
            treeSize: "13",
            hashes: [b64("h")],
            checkpoint: { envelope: "origin\n13\nroot\n" },
          },
          canonicalizedBody: b64("{}"),
        },
      ],
    },
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: b64("d".repeat(32)) },
      signature: b64("sig"),
    },
  };
}

const parse = (document: unknown) =>
  parseBundleDocument(Buffer.from(typeof document === "string" ? document : JSON.stringify(document)));

function edited(edit: (bundle: EditableJson) => void): EditableJson {
  const bundle = messageBundle();
  edit(bundle);
  return bundle;
}

describe("parseBundleDocument accepts", () => {
  it.each([
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
  ])("a v0.3 bundle with media type %s", (mediaType) => {
    const parsed = parse(edited((b) => (b.mediaType = mediaType)));
    expect(parsed).toMatchObject({ format: "sigstore-bundle", mediaType });
    expect(parsed.bundle.content.$case).toBe("messageSignature");
  });

  it("v0.1 and v0.2 bundles with a certificate chain", () => {
    for (const version of ["0.1", "0.2"]) {
      const bundle = edited((b) => {
        b.mediaType = `application/vnd.dev.sigstore.bundle+json;version=${version}`;
        b.verificationMaterial.x509CertificateChain = { certificates: [b.verificationMaterial.certificate] };
        delete b.verificationMaterial.certificate;
      });
      expect(parse(bundle).mediaType).toContain(version);
    }
  });

  it("a DSSE envelope", () => {
    const bundle = edited((b) => {
      delete b.messageSignature;
      b.dsseEnvelope = {
        payload: b64("{}"),
        payloadType: "application/vnd.in-toto+json",
        signatures: [{ sig: b64("s"), keyid: "" }],
      };
    });
    expect(parse(bundle).bundle.content.$case).toBe("dsseEnvelope");
  });
});

describe("parseBundleDocument refuses", () => {
  it("malformed and truncated JSON", () => {
    expectVerifyError(() => parse('{"mediaType":'), "IC_BUNDLE_MALFORMED_JSON");
    const whole = JSON.stringify(messageBundle());
    expectVerifyError(() => parse(whole.slice(0, whole.length / 2)), "IC_BUNDLE_MALFORMED_JSON");
  });

  it("JSON that is not an object", () => {
    expectVerifyError(() => parse("[]"), "IC_BUNDLE_INVALID");
    expectVerifyError(() => parse("null"), "IC_BUNDLE_INVALID");
  });

  it("a detached signature or PEM certificate, saying a bundle is needed", () => {
    const error = expectVerifyError(
      () => parse("MEUCIQDx0123456789abcdef+/=="),
      "IC_BUNDLE_DETACHED_SIGNATURE",
    );
    expect(error.message).toContain("a bundle is needed to verify the transparency-log entry offline");
    expectVerifyError(
      () => parse("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
      "IC_BUNDLE_DETACHED_SIGNATURE",
    );
  });

  it.each([
    "application/vnd.dev.sigstore.bundle+json;version=99.9",
    "application/vnd.dev.sigstore.bundle+json;version=0.1garbage",
    "application/vnd.dev.sigstore.bundle.v0.4+json",
    "application/json",
  ])("the unknown media type %s", (mediaType) => {
    expectVerifyError(() => parse(edited((b) => (b.mediaType = mediaType))), "IC_BUNDLE_UNKNOWN_MEDIA_TYPE");
  });

  it.each([
    ["an unknown top-level field", (b: EditableJson) => (b.extra = 1)],
    ["a snake_case alias", (b: EditableJson) => (b.verification_material = {})],
    ["an unknown log-entry field", (b: EditableJson) => (b.verificationMaterial.tlogEntries[0].note = "x")],
    ["a negative log index", (b: EditableJson) => (b.verificationMaterial.tlogEntries[0].logIndex = "-1")],
    [
      "a log index that is not a number",
      (b: EditableJson) => (b.verificationMaterial.tlogEntries[0].logIndex = "12a"),
    ],
    ["invalid base64 in the signature", (b: EditableJson) => (b.messageSignature.signature = "MEUC!!==")],
    ["bad base64 padding", (b: EditableJson) => (b.messageSignature.signature = "QUJD=")],
    ["no verification material", (b: EditableJson) => delete b.verificationMaterial],
    ["no content", (b: EditableJson) => delete b.messageSignature],
    [
      "both a message signature and an envelope",
      (b: EditableJson) => (b.dsseEnvelope = { payload: b64("x"), payloadType: "t", signatures: [] }),
    ],
    ["two kinds of key material", (b: EditableJson) => (b.verificationMaterial.publicKey = { hint: "k" })],
    ["an empty certificate", (b: EditableJson) => (b.verificationMaterial.certificate.rawBytes = "")],
    ["an unknown hash algorithm", (b: EditableJson) => (b.messageSignature.messageDigest.algorithm = "MD5")],
    [
      "a v0.3 log entry without an inclusion proof",
      (b: EditableJson) => delete b.verificationMaterial.tlogEntries[0].inclusionProof,
    ],
    [
      "a certificate chain in a v0.3 bundle",
      (b: EditableJson) => {
        b.verificationMaterial.x509CertificateChain = { certificates: [b.verificationMaterial.certificate] };
        delete b.verificationMaterial.certificate;
      },
    ],
  ])("%s", (_what, edit) => {
    expectVerifyError(() => parse(edited(edit)), "IC_BUNDLE_INVALID");
  });

  it("a document over the size limit, before parsing it", () => {
    expectVerifyError(
      () => parseBundleDocument(Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x20)),
      "IC_BUNDLE_TOO_LARGE",
    );
  });
});

describe("cosign's legacy bundle", () => {
  const body = b64(
    JSON.stringify({
      apiVersion: "0.0.1",
      kind: "hashedrekord",
      spec: {
        data: { hash: { algorithm: "sha256", value: "ab".repeat(32) } },
        signature: { content: b64("sig") },
      },
    }),
  );
  const pem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
  const legacy = () => ({
    base64Signature: b64("sig"),
    cert: b64(pem),
    rekorBundle: {
      SignedEntryTimestamp: b64("set"),
      Payload: { body, integratedTime: 1700000000, logIndex: 42, logID: "c0".repeat(32) },
    },
  });

  it("becomes the equivalent v0.1 bundle with an inclusion promise", () => {
    const parsed = parse(legacy());
    expect(parsed.format).toBe("cosign-legacy-bundle");
    expect(parsed.mediaType).toBe("application/vnd.dev.sigstore.bundle+json;version=0.1");
    const entry = parsed.bundle.verificationMaterial.tlogEntries[0];
    expect(entry?.logIndex).toBe("42");
    expect(entry?.integratedTime).toBe("1700000000");
    expect(Buffer.from(entry?.logId?.keyId ?? []).toString("hex")).toBe("c0".repeat(32));
    expect(Buffer.from(entry?.inclusionPromise?.signedEntryTimestamp ?? []).toString()).toBe("set");
    expect(parsed.bundle.verificationMaterial.content).toMatchObject({ $case: "x509CertificateChain" });
    const content = parsed.bundle.content;
    expect(
      content.$case === "messageSignature" &&
        Buffer.from(content.messageSignature.messageDigest?.digest ?? []).toString("hex"),
    ).toBe("ab".repeat(32));
  });

  it("is refused without its Rekor bundle, as a detached signature", () => {
    const { rekorBundle: _omitted, ...detached } = legacy();
    expectVerifyError(() => parse(detached), "IC_BUNDLE_DETACHED_SIGNATURE");
  });

  it.each([
    ["an unknown field", (l: EditableJson) => (l.extra = 1)],
    ["a log ID that is not hex", (l: EditableJson) => (l.rekorBundle.Payload.logID = "zz")],
    ["a cert that is not PEM", (l: EditableJson) => (l.cert = b64("plain text"))],
    ["a body that is not JSON", (l: EditableJson) => (l.rekorBundle.Payload.body = b64("{"))],
    [
      "a rekord entry, which only old cosign wrote",
      (l: EditableJson) =>
        (l.rekorBundle.Payload.body = b64(JSON.stringify({ kind: "rekord", apiVersion: "0.0.1" }))),
    ],
  ])("is refused with %s", (_what, edit) => {
    const document = legacy() as EditableJson;
    edit(document);
    expectVerifyError(() => parse(document), "IC_BUNDLE_INVALID");
  });
});
