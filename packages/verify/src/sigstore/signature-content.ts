import { createHash, type KeyObject } from "node:crypto";
import type { Envelope, MessageSignature } from "@sigstore/bundle";
import { dsse, crypto as sigstoreCrypto } from "@sigstore/core";
import { HashAlgorithm } from "@sigstore/protobuf-specs";
import type { SignedEntity } from "@sigstore/verify";
import type { Artifact } from "./artifact.js";
import { verifyPrehashedSha256 } from "./prehashed.js";

/** The piece of a signed entity that sigstore-js asks about the signed content. */
export type SignatureContent = SignedEntity["signature"];

export type MessageHashName = "sha256" | "sha384" | "sha512";

const HASH_NAMES: Partial<Record<HashAlgorithm, MessageHashName>> = {
  [HashAlgorithm.SHA2_256]: "sha256",
  [HashAlgorithm.SHA2_384]: "sha384",
  [HashAlgorithm.SHA2_512]: "sha512",
};

/** The hash a message signature was made over; undefined when unspecified or not one we verify. */
export function messageHashName(signature: MessageSignature): MessageHashName | undefined {
  const algorithm = signature.messageDigest?.algorithm;
  return algorithm === undefined ? undefined : HASH_NAMES[algorithm];
}

/**
 * A message signature checked against the artifact itself. Unlike sigstore-js's own content, the
 * log entry's digest is compared with the artifact's real digest, not with the digest the bundle
 * claims, and an artifact given only as a digest is verified without its bytes.
 */
export class ArtifactMessageContent implements SignatureContent {
  readonly signature: Buffer;

  constructor(
    signature: MessageSignature,
    private readonly artifact: Artifact,
    private readonly digest: Buffer,
    private readonly hashName: MessageHashName,
  ) {
    this.signature = Buffer.from(signature.signature);
  }

  compareSignature(signature: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(digest, this.digest);
  }

  verifySignature(key: KeyObject): boolean {
    if (this.artifact.kind === "bytes") {
      return sigstoreCrypto.verify(this.artifact.bytes, key, this.signature, this.hashName);
    }
    return verifyPrehashedSha256(key, this.digest, this.signature);
  }
}

/**
 * A DSSE envelope. Rekor v1 logs the payload's digest (dsse, intoto entries); Rekor v2 logs the
 * envelope as a hashedrekord over the DSSE pre-authentication encoding, so for those entries the
 * digest to compare is SHA-256(PAE(payloadType, payload)) — what the signature actually signs.
 */
export class EnvelopeContent implements SignatureContent {
  readonly signature: Buffer;
  private readonly pae: Buffer;

  constructor(
    private readonly envelope: Envelope,
    private readonly logsPreAuthEncoding: boolean,
  ) {
    this.signature = Buffer.from(envelope.signatures[0]?.sig ?? Buffer.alloc(0));
    this.pae = dsse.preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload));
  }

  compareSignature(signature: Buffer): boolean {
    return sigstoreCrypto.bufferEqual(signature, this.signature);
  }

  compareDigest(digest: Buffer): boolean {
    const signed = this.logsPreAuthEncoding ? this.pae : Buffer.from(this.envelope.payload);
    return sigstoreCrypto.bufferEqual(digest, createHash("sha256").update(signed).digest());
  }

  verifySignature(key: KeyObject): boolean {
    return sigstoreCrypto.verify(this.pae, key, this.signature);
  }
}
