import type { KeyObject } from "node:crypto";
import type { SignedEntity, TrustMaterial } from "@sigstore/verify";
import { VerificationError } from "@sigstore/verify";
// sigstore-js 3.1.1's checks of a signing key at given times (pinned exactly), as its Verifier calls them.
import { verifyCertificate, verifyPublicKey } from "@sigstore/verify/dist/key/index.js";
import {
  getTLogTimestamp,
  type TimestampVerificationResult as VerifiedTimestamp,
} from "@sigstore/verify/dist/timestamp/index.js";

export type { VerifiedTimestamp };

/**
 * What sigstore-js's Verifier checks of the timestamps and the signing key, without checking an RFC
 * 3161 timestamp a second time: `authorityTimes` are the results of the one check partitionTimestamps
 * made of each kept timestamp-authority entry, in order. The same rules, the same errors: no two
 * timestamps alike, at least one, the certificate chain (or the key) valid at every one of them, no two
 * SCTs from one log and at least `ctlogThreshold` of them. The log entries and the signature are the
 * caller's to check, as they were with the Verifier given none and a deferred signature.
 */
export function verifySigningKey(
  entity: Pick<SignedEntity, "key" | "timestamps">,
  authorityTimes: readonly VerifiedTimestamp[],
  material: TrustMaterial,
  ctlogThreshold: number,
): KeyObject {
  const times = timestampTimes(entity.timestamps, authorityTimes);
  if (hasTwinTimestamps(times)) {
    throw new VerificationError({ code: "TIMESTAMP_ERROR", message: "duplicate timestamp" });
  }
  if (times.length < 1) {
    throw new VerificationError({
      code: "TIMESTAMP_ERROR",
      message: `expected 1 timestamps, got ${times.length}`,
    });
  }
  const at = times.map((time) => time.timestamp);
  if (entity.key.$case === "public-key") return verifyPublicKey(entity.key.hint, at, material).key;
  const { scts, signer } = verifyCertificate(entity.key.certificate, at, material);
  if (scts.some((sct, index) => scts.slice(index + 1).some((other) => sameBytes(sct, other)))) {
    throw new VerificationError({ code: "CERTIFICATE_ERROR", message: "duplicate SCT" });
  }
  if (scts.length < ctlogThreshold) {
    throw new VerificationError({
      code: "CERTIFICATE_ERROR",
      message: `expected ${ctlogThreshold} SCTs, got ${scts.length}`,
    });
  }
  return signer.key;
}

/** Each timestamp's time in the entity's order: an authority's from its one check, a log's from its entry. */
function timestampTimes(
  timestamps: SignedEntity["timestamps"],
  authorityTimes: readonly VerifiedTimestamp[],
): VerifiedTimestamp[] {
  const times: VerifiedTimestamp[] = [];
  let authority = 0;
  for (const timestamp of timestamps) {
    if (timestamp.$case === "timestamp-authority") {
      const verified = authorityTimes[authority++];
      // A kept timestamp-authority entry without its check's result would be counted unchecked.
      if (verified === undefined) throw new Error("an RFC 3161 timestamp reached the key check unverified");
      times.push(verified);
      continue;
    }
    const fromLog = getTLogTimestamp(timestamp.tlogEntry);
    if (fromLog !== undefined) times.push(fromLog);
  }
  if (authority !== authorityTimes.length) throw new Error("more RFC 3161 results than timestamps");
  return times;
}

/** Two timestamps from the same source for the same time (sigstore-js compares them deeply). */
function hasTwinTimestamps(times: readonly VerifiedTimestamp[]): boolean {
  return times.some((time, index) =>
    times
      .slice(index + 1)
      .some(
        (other) =>
          other.type === time.type &&
          sameBytes(other.logID, time.logID) &&
          other.timestamp.getTime() === time.timestamp.getTime(),
      ),
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
