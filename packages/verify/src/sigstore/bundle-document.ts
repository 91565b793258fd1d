import { type Bundle, bundleFromJSON } from "@sigstore/bundle";
import { VerifyError } from "../errors.js";
import { cosignLegacyToBundleJson, isCosignLegacyBundle } from "./cosign-legacy.js";
import { findShapeViolation } from "./json-shape.js";
import { BUNDLE_MEDIA_TYPES, BUNDLE_SHAPE } from "./shapes.js";

/** No real bundle comes near this; a larger input is refused before it is parsed. */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

export type BundleFormat = "sigstore-bundle" | "cosign-legacy-bundle";

export interface ParsedBundle {
  readonly bundle: Bundle;
  readonly format: BundleFormat;
  readonly mediaType: string;
}

/** What a detached cosign signature or certificate looks like: base64 text or PEM, not JSON. */
const DETACHED = /^(-----BEGIN [A-Z ]+-----[\s\S]*-----END [A-Z ]+-----|[A-Za-z0-9+/]{16,}={0,2})$/;

/**
 * Reads a Sigstore bundle (v0.1, v0.2, v0.3 in both media-type spellings) or cosign's legacy bundle.
 * Refused: anything that is not one of those exactly, including detached signatures, which carry no
 * transparency-log entry to verify offline.
 */
export function parseBundleDocument(bytes: Uint8Array, label = "the bundle"): ParsedBundle {
  if (bytes.length > MAX_BUNDLE_BYTES) {
    throw new VerifyError(
      "IC_BUNDLE_TOO_LARGE",
      `${label} has ${bytes.length} bytes; the limit is ${MAX_BUNDLE_BYTES}`,
    );
  }
  const text = Buffer.from(bytes).toString("utf8");
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    if (DETACHED.test(text.trim())) throw detached(label);
    throw new VerifyError("IC_BUNDLE_MALFORMED_JSON", `${label} is not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new VerifyError("IC_BUNDLE_INVALID", `${label} is JSON but not an object`);
  }
  const record = document as Record<string, unknown>;
  if (isCosignLegacyBundle(record)) {
    return { ...fromSigstoreJson(cosignLegacyToBundleJson(record), label), format: "cosign-legacy-bundle" };
  }
  return fromSigstoreJson(record, label);
}

function fromSigstoreJson(document: Record<string, unknown>, label: string): ParsedBundle {
  const mediaType = document.mediaType;
  if (typeof mediaType !== "string" || !(BUNDLE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw new VerifyError(
      "IC_BUNDLE_UNKNOWN_MEDIA_TYPE",
      `${label} has the media type ${JSON.stringify(mediaType ?? null)}; expected one of ${BUNDLE_MEDIA_TYPES.join(", ")}`,
    );
  }
  const violation = findShapeViolation(document, BUNDLE_SHAPE);
  if (violation !== undefined)
    throw new VerifyError("IC_BUNDLE_INVALID", `${label} is not a valid bundle: ${violation}`);
  try {
    return { bundle: parseWithOptionalMessageDigest(document), format: "sigstore-bundle", mediaType };
  } catch (cause) {
    const fields = (cause as { fields?: string[] }).fields;
    const detail = fields === undefined ? (cause as Error).message : `invalid ${fields.join(", ")}`;
    throw new VerifyError("IC_BUNDLE_INVALID", `${label} is not a valid bundle: ${detail}`, { cause });
  }
}

/**
 * protobuf-specs makes `messageDigest` optional; @sigstore/bundle's validator demands it. Without it,
 * every other field is still validated (on a copy that carries a placeholder digest), and the bundle
 * returned is the document's own, with no digest: verification then needs the artifact's bytes.
 */
function parseWithOptionalMessageDigest(document: Record<string, unknown>): Bundle {
  const signature = document.messageSignature as Record<string, unknown> | undefined;
  if (signature === undefined || signature.messageDigest !== undefined) return bundleFromJSON(document);
  const placeholder = { algorithm: "SHA2_256", digest: Buffer.alloc(32).toString("base64") };
  const bundle = bundleFromJSON({
    ...document,
    messageSignature: { ...signature, messageDigest: placeholder },
  });
  if (bundle.content.$case !== "messageSignature") throw new Error("unreachable: a message signature");
  const { messageDigest: _placeholder, ...withoutDigest } = bundle.content.messageSignature;
  return { ...bundle, content: { $case: "messageSignature", messageSignature: withoutDigest } } as Bundle;
}

function detached(label: string): VerifyError {
  return new VerifyError(
    "IC_BUNDLE_DETACHED_SIGNATURE",
    `${label} is a detached signature or certificate, not a bundle; a bundle is needed to verify the transparency-log entry offline (cosign sign-blob --bundle, or --new-bundle-format)`,
  );
}
