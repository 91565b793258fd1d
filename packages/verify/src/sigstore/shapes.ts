import { arrayOf, base64, enumOf, object, type Shape, string, uint64 } from "./json-shape.js";

/** The Sigstore bundle media types this verifier knows; any other is refused, never guessed. */
export const BUNDLE_MEDIA_TYPES = [
  "application/vnd.dev.sigstore.bundle+json;version=0.1",
  "application/vnd.dev.sigstore.bundle+json;version=0.2",
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.dev.sigstore.bundle.v0.3+json",
] as const;

export const TRUSTED_ROOT_MEDIA_TYPES = [
  "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  "application/vnd.dev.sigstore.trustedroot.v0.2+json",
] as const;

const HASH_ALGORITHMS = enumOf(
  "HASH_ALGORITHM_UNSPECIFIED",
  "SHA2_256",
  "SHA2_384",
  "SHA2_512",
  "SHA3_256",
  "SHA3_384",
);
const rawBytes = object({ rawBytes: base64 }, { required: ["rawBytes"] });
const logId = object({ keyId: base64 }, { required: ["keyId"] });
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const timestamp = string(RFC3339, "an RFC 3339 time such as 2024-01-31T12:00:00Z");

const transparencyLogEntry = object(
  {
    logIndex: uint64,
    logId,
    kindVersion: object({ kind: string(), version: string() }, { required: ["kind", "version"] }),
    integratedTime: uint64,
    inclusionPromise: object({ signedEntryTimestamp: base64 }, { required: ["signedEntryTimestamp"] }),
    inclusionProof: object(
      {
        logIndex: uint64,
        rootHash: base64,
        treeSize: uint64,
        hashes: arrayOf(base64),
        checkpoint: object({ envelope: string() }, { required: ["envelope"] }),
      },
      // proto3 JSON leaves out zero numbers: log index 0 is present by being absent.
      { required: ["rootHash", "checkpoint"] },
    ),
    canonicalizedBody: base64,
  },
  { required: ["logId", "kindVersion", "canonicalizedBody"] },
);

export const BUNDLE_SHAPE: Shape = object(
  {
    mediaType: enumOf(...BUNDLE_MEDIA_TYPES),
    verificationMaterial: object(
      {
        publicKey: object({ hint: string() }),
        x509CertificateChain: object({ certificates: arrayOf(rawBytes) }, { required: ["certificates"] }),
        certificate: rawBytes,
        tlogEntries: arrayOf(transparencyLogEntry),
        timestampVerificationData: object({
          rfc3161Timestamps: arrayOf(object({ signedTimestamp: base64 }, { required: ["signedTimestamp"] })),
        }),
      },
      { oneOf: ["publicKey", "x509CertificateChain", "certificate"], oneOfRequired: true },
    ),
    messageSignature: object(
      {
        messageDigest: object(
          { algorithm: HASH_ALGORITHMS, digest: base64 },
          { required: ["algorithm", "digest"] },
        ),
        signature: base64,
      },
      { required: ["signature"] },
    ),
    dsseEnvelope: object(
      {
        payload: base64,
        payloadType: string(),
        signatures: arrayOf(object({ sig: base64, keyid: string() }, { required: ["sig"] })),
      },
      { required: ["payload", "payloadType", "signatures"] },
    ),
  },
  {
    required: ["mediaType", "verificationMaterial"],
    oneOf: ["messageSignature", "dsseEnvelope"],
    oneOfRequired: true,
  },
);

const timeRange = object({ start: timestamp, end: timestamp });
const publicKey = object(
  { rawBytes: base64, keyDetails: string(/^[A-Z0-9_]+$/, "a PublicKeyDetails name"), validFor: timeRange },
  { required: ["rawBytes", "keyDetails"] },
);
const transparencyLogInstance = object(
  {
    baseUrl: string(),
    hashAlgorithm: HASH_ALGORITHMS,
    publicKey,
    logId,
    checkpointKeyId: logId,
    operator: string(),
  },
  { required: ["publicKey", "logId"] },
);
const certificateAuthority = object(
  {
    subject: object({ organization: string(), commonName: string() }),
    uri: string(),
    certChain: object({ certificates: arrayOf(rawBytes, 1) }, { required: ["certificates"] }),
    validFor: timeRange,
    operator: string(),
  },
  { required: ["certChain"] },
);

export const TRUSTED_ROOT_SHAPE: Shape = object(
  {
    mediaType: enumOf(...TRUSTED_ROOT_MEDIA_TYPES),
    tlogs: arrayOf(transparencyLogInstance),
    certificateAuthorities: arrayOf(certificateAuthority),
    ctlogs: arrayOf(transparencyLogInstance),
    timestampAuthorities: arrayOf(certificateAuthority),
  },
  { required: ["mediaType"] },
);
