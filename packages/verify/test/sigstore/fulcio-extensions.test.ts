import { parseAttestationFile, readFulcioExtensions, VerifyError } from "@ironclaw/verify";
import { ASN1Obj, X509Certificate } from "@sigstore/core";
import { describe, expect, it } from "vitest";
import { realFile } from "../real-world/fixtures.js";

// readFulcioExtensions takes each extension's value from the extension it is looking at (its last
// field, extnValue) rather than searching the certificate again by OID. Real certificates: GitHub's
// (gh-cli's test data). Self-made: a critical extension, which no public Fulcio certificate carries.
const REAL = "gh-cli/custom-issuer.sigstore.json";

function realLeaf(): X509Certificate {
  const [entry] = parseAttestationFile(realFile(REAL), REAL);
  const material = entry?.parsed.bundle.verificationMaterial.content;
  const raw =
    material?.$case === "x509CertificateChain"
      ? material.x509CertificateChain.certificates[0]?.rawBytes
      : material?.$case === "certificate"
        ? material.certificate.rawBytes
        : undefined;
  if (raw === undefined) throw new Error(`${REAL} has no certificate`);
  return X509Certificate.parse(Buffer.from(raw));
}

/** DER of one Extension: SEQUENCE { OID 1.3.6.1.4.1.57264.1.<arc>, [BOOLEAN critical], OCTET STRING { UTF8String } }. */
function extensionDer(arc: number, text: string, critical: boolean): Buffer<ArrayBuffer> {
  const tlv = (tag: number, body: Buffer): Buffer<ArrayBuffer> =>
    Buffer.concat([Buffer.from([tag, body.length]), body]);
  const oid = Buffer.from([0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, arc]);
  return tlv(
    0x30,
    Buffer.concat([
      tlv(0x06, oid),
      ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []),
      tlv(0x04, tlv(0x0c, Buffer.from(text, "utf8"))),
    ]),
  );
}

describe("readFulcioExtensions", () => {
  it("reads every extension of a real certificate as a search by its OID finds it", () => {
    const certificate = realLeaf();
    const read = readFulcioExtensions(certificate) as Record<string, string | undefined>;
    expect(read.issuer).toBe(
      certificate.extension("1.3.6.1.4.1.57264.1.8")?.valueObj.subs[0]?.value.toString(),
    );
    expect(read.sourceRepositoryDigest).toMatch(/^[0-9a-f]{40}$/);
    const fulcio = certificate.extensions.filter((ext) =>
      ext.subs[0]?.toOID().startsWith("1.3.6.1.4.1.57264.1."),
    );
    expect(fulcio.length).toBeGreaterThan(10);
    for (const extension of fulcio) {
      const oid = extension.subs[0]?.toOID() ?? "";
      expect(extension.subs.at(-1)?.value).toEqual(certificate.extension(oid)?.value);
    }
  });

  it("reads the value of an extension marked critical, not its critical flag", () => {
    const certificate = realLeaf();
    const source = certificate.extensions.findIndex(
      (ext) => ext.subs[0]?.toOID() === "1.3.6.1.4.1.57264.1.12",
    );
    certificate.extensions.splice(
      source,
      1,
      ASN1Obj.parseBuffer(extensionDer(12, "https://example.test/r", true)),
    );
    expect(readFulcioExtensions(certificate).sourceRepositoryUri).toBe("https://example.test/r");
  });

  it("says no to a certificate that has one Fulcio extension twice", () => {
    const certificate = realLeaf();
    certificate.extensions.push(ASN1Obj.parseBuffer(extensionDer(12, "https://example.test/other", false)));
    expect(() => readFulcioExtensions(certificate)).toThrow(VerifyError);
    expect(() => readFulcioExtensions(certificate)).toThrow(/appears twice/);
  });
});
