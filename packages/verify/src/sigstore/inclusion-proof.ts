import type { TransparencyLogEntry } from "@sigstore/bundle";
import { VerifyError } from "../errors.js";

/**
 * sigstore-js proves inclusion against the signed checkpoint and never reads the proof's own
 * `rootHash` and `treeSize`. A bundle whose unsigned copies disagree with the signed ones is
 * inconsistent, and an inconsistent bundle is refused rather than half-believed.
 */
export function checkInclusionProofsAgreeWithCheckpoints(entries: readonly TransparencyLogEntry[]): void {
  for (const [index, entry] of entries.entries()) {
    const proof = entry.inclusionProof;
    if (proof === undefined) continue;
    const note = proof.checkpoint?.envelope.split("\n\n")[0] ?? "";
    const [, size, rootHash] = note.split("\n");
    if (size === undefined || rootHash === undefined || !/^[1-9][0-9]*$/.test(size)) {
      throw inconsistent(index, "its checkpoint has no tree size and root hash");
    }
    if (String(proof.treeSize) !== size) {
      throw inconsistent(index, `the proof's tree size ${proof.treeSize} is not the checkpoint's ${size}`);
    }
    const proofRoot = Buffer.from(proof.rootHash).toString("base64");
    if (proofRoot !== rootHash) {
      throw inconsistent(index, `the proof's root hash ${proofRoot} is not the checkpoint's ${rootHash}`);
    }
  }
}

function inconsistent(index: number, why: string): VerifyError {
  return new VerifyError("IC_SIGNATURE_TLOG", `transparency-log entry ${index} is inconsistent: ${why}`);
}
