import type { SignedEntity, TrustMaterial } from "@sigstore/verify";
// sigstore-js 3.1.1's check of one RFC 3161 timestamp against the root's authorities (pinned exactly).
import { getTSATimestamp } from "@sigstore/verify/dist/timestamp/index.js";

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
