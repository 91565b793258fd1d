import { ASN1Obj, X509Certificate } from "@sigstore/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeDer, installDerEncoder, pinDer, sigstoreDerEncoder } from "../../src/sigstore/der-encoding.js";
import { publicGoodTrustedRoot } from "../../src/sigstore.js";
import { RELEASE_IDENTITY, useLocalSigstore } from "./local-instance.js";

const sigstore = useLocalSigstore();

/** Every certificate of a trusted root document, as DER. */
function rootCertificates(document: Record<string, unknown>): Buffer<ArrayBuffer>[] {
  const authorities = [
    ...((document.certificateAuthorities as unknown[]) ?? []),
    ...((document.timestampAuthorities as unknown[]) ?? []),
  ] as Array<{ certChain: { certificates: Array<{ rawBytes: string }> } }>;
  return authorities.flatMap((authority) =>
    authority.certChain.certificates.map((certificate) => Buffer.from(certificate.rawBytes, "base64")),
  );
}

/** Each node of a tree, so a test can compare the encoders on every subtree, not only the root. */
function* nodes(root: ASN1Obj): Generator<ASN1Obj> {
  yield root;
  for (const sub of root.subs) yield* nodes(sub);
}

function expectSameEncoding(root: ASN1Obj): void {
  for (const node of nodes(root)) expect(encodeDer(node).equals(sigstoreDerEncoder(node))).toBe(true);
}

/** DER of one element: a one-byte tag, the definite length in any form the caller picks, the content. */
function element(tag: number, content: Buffer, longForm = 0): Buffer<ArrayBuffer> {
  let length: Buffer;
  if (content.length < 0x80 && longForm === 0) length = Buffer.from([content.length]);
  else {
    const bytes: number[] = [];
    for (let rest = content.length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    while (bytes.length < longForm) bytes.unshift(0);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.from(Buffer.concat([Buffer.from([tag]), length, content]));
}

/** Random ASN.1 trees: SEQUENCE/SET/context-specific containers, OCTET STRINGs that may hold DER, primitives. */
const tree: fc.Arbitrary<Buffer<ArrayBuffer>> = fc.letrec<{ node: Buffer<ArrayBuffer> }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc
      .tuple(fc.constantFrom(0x02, 0x04, 0x06, 0x0c, 0x13, 0x17), fc.uint8Array({ maxLength: 300 }))
      .map(([tag, bytes]) => element(tag, Buffer.from(bytes))),
    fc
      .tuple(
        fc.constantFrom(0x30, 0x31, 0xa0, 0xa3, 0x04),
        fc.array(tie("node"), { maxLength: 5 }),
        fc.constantFrom(0, 0, 0, 2, 3),
      )
      // sigstore-js refuses a long-form length of zero (it reads it as the indefinite form).
      .map(([tag, children, longForm]) => {
        const content = Buffer.concat(children);
        return element(tag, content, content.length === 0 ? 0 : longForm);
      }),
  ),
})).node;

describe("the DER encoder that replaces sigstore-js's", () => {
  it("writes sigstore-js's bytes for every node of real certificates (public-good and local roots, leaf certificates)", async () => {
    const signed = await sigstore.ours.signMessage(Buffer.from("artifact"), RELEASE_IDENTITY);
    const leaf = Buffer.from(
      (signed.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes,
      "base64",
    );
    const certificates = [
      ...rootCertificates(publicGoodTrustedRoot().document),
      ...rootCertificates(sigstore.root.document),
      leaf,
    ];
    expect(certificates.length).toBeGreaterThan(3);
    for (const der of certificates) {
      const certificate = X509Certificate.parse(der);
      expectSameEncoding(certificate.root);
      // A parsed DER certificate re-encodes to itself.
      expect(encodeDer(certificate.root).equals(der)).toBe(true);
    }
  });

  it("encodes the tree as it is now, as sigstore-js does when it drops the SCT extension from a copy", async () => {
    const signed = await sigstore.ours.signMessage(Buffer.from("artifact"), RELEASE_IDENTITY);
    const der = Buffer.from(
      (signed.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes,
      "base64",
    );
    const certificate = X509Certificate.parse(der);
    const extensions = certificate.tbsCertificate.subs.find((sub) => sub.tag.number === 3);
    const list = extensions?.subs[0];
    expect(list?.subs.length).toBeGreaterThan(1);
    list?.subs.pop();
    const edited = encodeDer(certificate.tbsCertificate);
    expect(edited.equals(sigstoreDerEncoder(certificate.tbsCertificate))).toBe(true);
    expect(der.includes(edited)).toBe(false);
  });

  it("returns a new buffer each time, since callers write into it", () => {
    const node = ASN1Obj.parseBuffer(element(0xa0, element(0x04, Buffer.from("signed attributes"))));
    const first = encodeDer(node);
    first[0] = 0x31;
    expect(encodeDer(node)[0]).toBe(0xa0);
  });

  it("matches sigstore-js on generated trees, long-form lengths (which both re-encode in the shortest form) included", () => {
    fc.assert(
      fc.property(tree, (der) => {
        expectSameEncoding(ASN1Obj.parseBuffer(der));
      }),
      { numRuns: 400 },
    );
  });

  it("encodes lengths that need two, three and four bytes", () => {
    for (const size of [0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x1000000]) {
      // 0xff is no tag sigstore-js reads, so the content stays one primitive value.
      const node = ASN1Obj.parseBuffer(element(0x04, Buffer.alloc(size, 0xff)));
      expect(encodeDer(node).equals(sigstoreDerEncoder(node))).toBe(true);
    }
  });

  it("is what ASN1Obj#toDER does once installed", () => {
    installDerEncoder();
    const node = ASN1Obj.parseBuffer(element(0x30, Buffer.concat([element(0x02, Buffer.from([1]))]), 2));
    expect(node.toDER().equals(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).toBe(true);
    expect(node.toDER().equals(sigstoreDerEncoder(node))).toBe(true);
  });

  it("answers a pinned certificate from its one encoding, a fresh copy each time, and refuses edits to it", async () => {
    installDerEncoder();
    const signed = await sigstore.ours.signMessage(Buffer.from("artifact"), RELEASE_IDENTITY);
    const der = Buffer.from(
      (signed.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes,
      "base64",
    );
    const certificate = X509Certificate.parse(der);
    pinDer(certificate.root);
    const first = certificate.root.toDER();
    expect(first.equals(der)).toBe(true);
    first[0] = 0x31;
    expect(certificate.root.toDER().equals(der)).toBe(true);
    // Its tbsCertificate, which each signature check encodes, is answered from the same bytes.
    const tbs = certificate.tbsCertificate.toDER();
    expect(tbs.equals(sigstoreDerEncoder(certificate.tbsCertificate))).toBe(true);
    expect(der.subarray(4, 4 + tbs.length).equals(tbs)).toBe(true);
    tbs.fill(0);
    expect(certificate.tbsCertificate.toDER().equals(sigstoreDerEncoder(certificate.tbsCertificate))).toBe(
      true,
    );
    // Deeper nodes are encoded as they are, as before.
    const validity = certificate.tbsCertificate.subs[4];
    if (validity === undefined) throw new Error("no validity");
    expect(validity.toDER().equals(sigstoreDerEncoder(validity))).toBe(true);
    // An edit would make the pinned bytes stale, so it must fail rather than go unseen.
    const extensions = certificate.tbsCertificate.subs.find((sub) => sub.tag.number === 3);
    expect(() => extensions?.subs[0]?.subs.pop()).toThrow(TypeError);
    // A clone, which sigstore-js edits to check SCTs, is a new tree that encodes as it is.
    const clone = certificate.clone();
    const list = clone.tbsCertificate.subs.find((sub) => sub.tag.number === 3)?.subs[0];
    list?.subs.pop();
    expect(clone.root.toDER().equals(sigstoreDerEncoder(clone.root))).toBe(true);
    expect(clone.root.toDER().equals(der)).toBe(false);
  });
});
