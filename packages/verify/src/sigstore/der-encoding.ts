import { ASN1Obj } from "@sigstore/core";

/**
 * sigstore-js re-encodes certificates to DER many times per verification (to compare them, to check
 * each candidate issuer's signature, to check SCTs and timestamps), and its encoder allocates two
 * zero-filled 1 KiB blocks for every node of the tree. That is most of the time a signature takes.
 *
 * This encoder writes the same bytes from the same tree in two passes (sizes, then bytes) into one
 * buffer. It reads the tree as it is at call time, because sigstore-js edits clones before encoding
 * them (it removes the SCT extension), and returns a new buffer each call, because callers write into
 * it (the RFC 3161 check re-tags the signed attributes).
 */
export function encodeDer(node: ASN1Obj): Buffer {
  const sizes = new Map<ASN1Obj, number>();
  const out = Buffer.alloc(encodedSize(node, sizes));
  const end = writeNode(node, out, 0, sizes);
  if (end !== out.length) throw new Error(`DER encoder wrote ${end} of ${out.length} bytes`);
  return out;
}

/** Content length and the whole encoding's length, as sigstore-js defines them: children win over value. */
function encodedSize(node: ASN1Obj, sizes: Map<ASN1Obj, number>): number {
  let content = 0;
  if (node.subs.length > 0) for (const sub of node.subs) content += encodedSize(sub, sizes);
  else content = node.value.length;
  sizes.set(node, content);
  return 1 + lengthOfLength(content) + content;
}

function lengthOfLength(length: number): number {
  if (length < 0x80) return 1;
  let bytes = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes++;
  return 1 + bytes;
}

function writeNode(node: ASN1Obj, out: Buffer, offset: number, sizes: Map<ASN1Obj, number>): number {
  const content = sizes.get(node) ?? 0;
  // A byte, as sigstore-js's encoder stores it.
  out[offset++] = node.tag.toDER() & 0xff;
  offset = writeLength(content, out, offset);
  if (node.subs.length > 0) {
    for (const sub of node.subs) offset = writeNode(sub, out, offset, sizes);
    return offset;
  }
  out.set(node.value, offset);
  return offset + node.value.length;
}

/** Definite form, shortest encoding (X.690 §8.1.3, §10.1). */
function writeLength(length: number, out: Buffer, offset: number): number {
  if (length < 0x80) {
    out[offset] = length;
    return offset + 1;
  }
  const bytes = lengthOfLength(length) - 1;
  out[offset] = 0x80 | bytes;
  let rest = length;
  for (let index = bytes; index >= 1; index--) {
    out[offset + index] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return offset + 1 + bytes;
}

const originalToDer = ASN1Obj.prototype.toDER;
let installed = false;

/** Encodings of trees that cannot change any more (see pinDer). */
const pinned = new WeakMap<ASN1Obj, Buffer>();

/**
 * Encodes a certificate tree once and answers every later toDER of it (and of its first child, the
 * tbsCertificate) from that encoding. sigstore-js compares certificates by re-encoding both at every
 * step of its chain search, so a root with a few authorities costs hundreds of encodings per verification. Only for trees nothing edits (the trusted
 * root's certificates, the bundle's leaf; sigstore-js edits clones, which are new trees): the child
 * lists are frozen, so an edit throws, and verification fails, instead of answering stale bytes.
 */
export function pinDer(node: ASN1Obj): void {
  if (pinned.has(node)) return;
  const sizes = new Map<ASN1Obj, number>();
  const der = Buffer.alloc(encodedSize(node, sizes));
  const end = writeNode(node, der, 0, sizes);
  if (end !== der.length) throw new Error(`DER encoder wrote ${end} of ${der.length} bytes`);
  freezeChildren(node);
  pinned.set(node, der);
  // A certificate's first child is its tbsCertificate, which every signature check of it encodes:
  // its bytes are the ones right after the outer header.
  const [first] = node.subs;
  if (first !== undefined) {
    const start = 1 + lengthOfLength(sizes.get(node) ?? 0);
    const content = sizes.get(first) ?? 0;
    pinned.set(first, der.subarray(start, start + 1 + lengthOfLength(content) + content));
  }
}

function freezeChildren(node: ASN1Obj): void {
  Object.freeze(node.subs);
  for (const sub of node.subs) freezeChildren(sub);
}

/**
 * Replaces ASN1Obj#toDER with encodeDer for this process. Idempotent. The output is byte for byte
 * sigstore-js's own (test/sigstore/der-encoding.test.ts compares them on real and generated trees).
 */
export function installDerEncoder(): void {
  if (installed) return;
  installed = true;
  ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
    const der = pinned.get(this);
    // A copy: callers may write into what they are given.
    return der === undefined ? encodeDer(this) : Buffer.from(der);
  };
}

/** sigstore-js's encoder, for the tests that compare the two. */
export function sigstoreDerEncoder(node: ASN1Obj): Buffer {
  return originalToDer.call(node);
}
