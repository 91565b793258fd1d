import type { Bundle } from "@sigstore/bundle";
import type { SignedEntity, TrustMaterial } from "@sigstore/verify";
// sigstore-js 3.1.1's check of one RFC 3161 timestamp against the root's authorities (pinned exactly).
import { getTSATimestamp } from "@sigstore/verify/dist/timestamp/index.js";
import { VerifyError } from "../errors.js";

/** sigstore-python's limit: more timestamps than this is refused, not searched. */
export const MAX_TIMESTAMPS = 32;

/**
 * What holds before any timestamp is weighed, as sigstore-python requires: not too many, no two
 * alike (set aside or not), and a root that has an authority to check them against at all.
 */
export function checkTimestampList(bundle: Bundle, material: TrustMaterial): void {
  const stamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [];
  if (stamps.length > MAX_TIMESTAMPS) {
    throw new VerifyError(
      "IC_SIGNATURE_TIMESTAMP",
      `the bundle has ${stamps.length} RFC 3161 timestamps; at most ${MAX_TIMESTAMPS} are accepted`,
    );
  }
  const seen = new Set<string>();
  for (const stamp of stamps) {
    const key = Buffer.from(stamp.signedTimestamp).toString("base64");
    if (seen.has(key))
      throw new VerifyError("IC_SIGNATURE_TIMESTAMP", "the bundle has a duplicate RFC 3161 timestamp");
    seen.add(key);
  }
  if (stamps.length > 0 && material.timestampAuthorities.length === 0) {
    throw new VerifyError(
      "IC_SIGNATURE_TIMESTAMP",
      "the bundle has RFC 3161 timestamps but the trusted root has no timestamp authority to check them against; pass the root of the instance that issued them",
    );
  }
}

/** An RFC 3161 timestamp that did not verify: reported, never counted, never silent. */
export interface UnverifiedTimestamp {
  /** Its position among the bundle's RFC 3161 timestamps, from 0. */
  readonly index: number;
  /** The time it claims, when it could be read. */
  readonly time?: Date;
  readonly reason: string;
}

/**
 * Threshold semantics, as sigstore-go and sigstore-python apply them: each RFC 3161 timestamp is
 * verified on its own (a trusted authority, its chain, its signature over this bundle's signature);
 * those that fail are set aside and reported, and the verifier then requires enough of the rest.
 * sigstore-js refused a bundle for any one that failed. A timestamp that does verify still counts
 * against the certificate: one outside its validity fails the bundle (sigstore-conformance).
 */
export function partitionTimestamps(
  entity: SignedEntity,
  material: TrustMaterial,
): { readonly kept: SignedEntity["timestamps"]; readonly unverified: readonly UnverifiedTimestamp[] } {
  const kept: SignedEntity["timestamps"] = [];
  const unverified: UnverifiedTimestamp[] = [];
  let index = 0;
  for (const timestamp of entity.timestamps) {
    if (timestamp.$case !== "timestamp-authority") {
      kept.push(timestamp);
      continue;
    }
    const position = index++;
    let time: Date | undefined;
    try {
      time = timestamp.timestamp.signingTime;
      getTSATimestamp(timestamp.timestamp, entity.signature.signature, material.timestampAuthorities);
    } catch (error) {
      unverified.push({
        index: position,
        ...(time === undefined ? {} : { time }),
        reason: error instanceof Error ? error.message : String(error),
      });
      continue;
    }
    kept.push(timestamp);
  }
  return { kept, unverified };
}
