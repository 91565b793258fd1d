import { VerifyError } from "../errors.js";
import { base64, findShapeViolation, object, string, uint64 } from "./json-shape.js";

/** cosign's `--bundle` output (cosign's LocalSignedPayload), before Sigstore bundles existed. */
export interface CosignLegacyBundle {
  readonly base64Signature: string;
  readonly cert?: string;
  readonly rekorBundle: {
    readonly SignedEntryTimestamp: string;
    readonly Payload: {
      readonly body: string;
      readonly integratedTime: number | string;
      readonly logIndex: number | string;
      readonly logID: string;
    };
  };
}

const LEGACY_SHAPE = object(
  {
    base64Signature: base64,
    cert: base64,
    rekorBundle: object(
      {
        SignedEntryTimestamp: base64,
        Payload: object(
          {
            body: base64,
            integratedTime: uint64,
            logIndex: uint64,
            logID: string(/^[0-9a-f]{64}$/, "a 64-digit hex log ID"),
          },
          { required: ["body", "integratedTime", "logIndex", "logID"] },
        ),
      },
      { required: ["SignedEntryTimestamp", "Payload"] },
    ),
  },
  { required: ["base64Signature", "rekorBundle"] },
);

export function isCosignLegacyBundle(document: Record<string, unknown>): boolean {
  return "base64Signature" in document;
}

/**
 * Turns cosign's legacy bundle into the v0.1 Sigstore bundle it is equivalent to: the certificate as a
 * one-element chain, the Rekor entry with its signed entry timestamp as the inclusion promise. The
 * result is verified like any other bundle; nothing in the conversion is trusted on its own.
 */
export function cosignLegacyToBundleJson(document: Record<string, unknown>): Record<string, unknown> {
  if (document.rekorBundle === undefined || document.rekorBundle === null) {
    throw new VerifyError(
      "IC_BUNDLE_DETACHED_SIGNATURE",
      "the cosign bundle has no rekorBundle, so its transparency-log entry cannot be verified offline; sign with `cosign sign-blob --bundle` while Rekor is in use",
    );
  }
  const violation = findShapeViolation(document, LEGACY_SHAPE);
  if (violation !== undefined)
    throw new VerifyError("IC_BUNDLE_INVALID", `not a valid cosign bundle: ${violation}`);
  const legacy = document as unknown as CosignLegacyBundle;
  const { Payload, SignedEntryTimestamp } = legacy.rekorBundle;
  const body = parseBody(Payload.body);
  if (body.kind !== "hashedrekord") {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      `the cosign bundle's Rekor entry is a ${JSON.stringify(body.kind)} entry; only hashedrekord entries of signed blobs are supported (re-sign with a current cosign)`,
    );
  }
  return {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: {
      ...(legacy.cert === undefined
        ? { publicKey: { hint: "" } }
        : { x509CertificateChain: { certificates: [{ rawBytes: pemCertificateToDer(legacy.cert) }] } }),
      tlogEntries: [
        {
          logIndex: String(Payload.logIndex),
          logId: { keyId: Buffer.from(Payload.logID, "hex").toString("base64") },
          kindVersion: { kind: body.kind, version: body.apiVersion },
          integratedTime: String(Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: SignedEntryTimestamp },
          canonicalizedBody: Payload.body,
        },
      ],
    },
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: Buffer.from(body.digestHex, "hex").toString("base64") },
      signature: legacy.base64Signature,
    },
  };
}

function parseBody(encoded: string): { kind: unknown; apiVersion: string; digestHex: string } {
  try {
    const body = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
      kind?: unknown;
      apiVersion?: unknown;
      spec?: { data?: { hash?: { algorithm?: unknown; value?: unknown } } };
    };
    const hash = body.spec?.data?.hash;
    if (body.kind === "hashedrekord" && (hash?.algorithm !== "sha256" || typeof hash.value !== "string")) {
      throw new Error("the hashedrekord entry has no sha256 hash");
    }
    return { kind: body.kind, apiVersion: String(body.apiVersion), digestHex: String(hash?.value ?? "") };
  } catch (cause) {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      `the cosign bundle's Rekor entry body is unreadable: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/** `cert` is base64 of a PEM certificate (what cosign writes), not of the DER. */
function pemCertificateToDer(encoded: string): string {
  const pem = Buffer.from(encoded, "base64").toString("utf8");
  const match = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/.exec(
    pem,
  );
  if (match?.[1] === undefined) {
    throw new VerifyError(
      "IC_BUNDLE_INVALID",
      "the cosign bundle's cert is not a base64-encoded PEM certificate",
    );
  }
  return match[1].replace(/\s/g, "");
}
