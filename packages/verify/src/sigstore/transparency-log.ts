import type { TransparencyLogEntry } from "@sigstore/bundle";
import type { SignedEntity } from "@sigstore/verify";
// sigstore-js 3.1.1's own checks for the log entry's body, its inclusion promise and the Merkle
// path (pinned exactly). Only its checkpoint check is replaced, by ours (checkpoint.ts).
import { verifyTLogBody } from "@sigstore/verify/dist/tlog/index.js";
import { verifyMerkleInclusion } from "@sigstore/verify/dist/tlog/merkle.js";
import { verifyTLogSET } from "@sigstore/verify/dist/tlog/set.js";
import { VerifyError } from "../errors.js";
import { type TLogAuthority, verifyCheckpoint } from "./checkpoint.js";

/**
 * Each entry: its inclusion (the signed promise, the proof against a verified checkpoint, or both)
 * and its body, which must describe this signature. At least `threshold` entries are required.
 */
export function verifyTransparencyLog(
  entries: readonly TransparencyLogEntry[],
  content: SignedEntity["signature"],
  tlogs: readonly TLogAuthority[],
  threshold: number,
): void {
  for (const entry of entries) {
    let included = false;
    if (entry.inclusionPromise !== undefined) {
      verifyTLogSET({ ...entry, inclusionPromise: entry.inclusionPromise }, [...tlogs]);
      included = true;
    }
    if (entry.inclusionProof !== undefined) {
      const checkpoint = verifyCheckpoint(entry, tlogs);
      // verifyCheckpoint has read the proof's checkpoint, so it is there.
      verifyMerkleInclusion(entry as Parameters<typeof verifyMerkleInclusion>[0], checkpoint as never);
      included = true;
    }
    if (!included) {
      throw new VerifyError(
        "IC_SIGNATURE_TLOG",
        `transparency-log entry ${entry.logIndex} has neither an inclusion promise nor an inclusion proof`,
      );
    }
    verifyTLogBody(entry, content);
  }
  if (entries.length < threshold) {
    throw new VerifyError(
      "IC_SIGNATURE_TLOG",
      `the bundle has ${entries.length} transparency-log entries; at least ${threshold} must verify`,
    );
  }
}
