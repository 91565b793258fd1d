import { createHash } from "node:crypto";
import {
  type CertificateAuthority,
  HashAlgorithm,
  PublicKeyDetails,
  type TransparencyLogInstance,
  TrustedRoot,
} from "@sigstore/protobuf-specs";

export const TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";

const OPERATOR = "sigstore-local";

/** What a local instance trusts: DER keys and certificates of its services, and where they listen. */
export interface TrustedRootMaterial {
  validFrom: Date;
  fulcio: { url: string; rootCertificate: Buffer };
  ctLog: { url: string; publicKey: Buffer };
  rekor: { url: string; publicKey: Buffer };
  tsa?: { url: string; certificateChain: Buffer[] };
}

/** The trusted_root.json document (protobuf JSON form) for a local instance. */
export function buildTrustedRoot(m: TrustedRootMaterial): Record<string, unknown> {
  const root: TrustedRoot = {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [logInstance(m.rekor.url, m.rekor.publicKey, m.validFrom)],
    certificateAuthorities: [authority(m.fulcio.url, "sigstore", [m.fulcio.rootCertificate], m.validFrom)],
    ctlogs: [logInstance(m.ctLog.url, m.ctLog.publicKey, m.validFrom)],
    timestampAuthorities: m.tsa ? [authority(m.tsa.url, "tsa", m.tsa.certificateChain, m.validFrom)] : [],
  };
  const json = TrustedRoot.toJSON(root);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("sigstore-local: TrustedRoot.toJSON did not return an object");
  }
  // toJSON leaves out empty lists; a trusted root names all four, even when one is empty.
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
    ...json,
  };
}

// Rekor and CT logs are identified by the SHA-256 of their DER SubjectPublicKeyInfo.
export function logId(spki: Buffer): Buffer {
  return createHash("sha256").update(spki).digest();
}

function logInstance(url: string, spki: Buffer, validFrom: Date): TransparencyLogInstance {
  return {
    baseUrl: url,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: {
      rawBytes: spki,
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      validFor: { start: validFrom },
    },
    logId: { keyId: logId(spki) },
    checkpointKeyId: undefined,
    operator: OPERATOR,
  };
}

// The chain is leaf first, root last, as the verifier expects of timestamp authorities.
function authority(url: string, commonName: string, chain: Buffer[], validFrom: Date): CertificateAuthority {
  return {
    subject: { organization: "sigstore.mock", commonName },
    uri: url,
    certChain: { certificates: chain.map((rawBytes) => ({ rawBytes })) },
    validFor: { start: validFrom },
    operator: OPERATOR,
  };
}
