import type { TransparencyLogEntry } from "@sigstore/bundle";
import { crypto as sigstoreCrypto } from "@sigstore/core";
import type { TrustMaterial } from "@sigstore/verify";
import { VerifyError } from "../errors.js";

/** What a verified checkpoint says: the log's origin, its size and root hash at that point. */
export interface VerifiedCheckpoint {
  readonly origin: string;
  readonly logSize: bigint;
  readonly logHash: Buffer;
  readonly rest: string[];
}

const EM_DASH_PREFIX = "\u2014 ";
/** Rekor v1 origins are `<name> - <tree id>`; Rekor v2 (tiles) origins are the log's host. */
const TREE_ID_SEPARATOR = " - ";

/**
 * Verifies an inclusion proof's signed checkpoint (a signed note, transparency-dev/formats) against
 * the log the entry names by key id. sigstore-js chose the log by matching its URL against a regular
 * expression compiled from the note's signer name, which comes from the bundle: a self-hosted Rekor
 * failed, and bundle text became a regexp. Here the key comes from the key id, the signature must
 * verify with it, and the origin is compared as a string, exactly.
 */
export type TLogAuthority = TrustMaterial["tlogs"][number];

export function verifyCheckpoint(
  entry: TransparencyLogEntry,
  tlogs: readonly TLogAuthority[],
): VerifiedCheckpoint {
  const envelope = entry.inclusionProof?.checkpoint?.envelope;
  if (envelope === undefined) throw invalid("the inclusion proof has no checkpoint");
  const split = envelope.indexOf("\n\n");
  if (split === -1) throw invalid("the checkpoint has no blank line between the note and its signatures");
  const note = envelope.slice(0, split + 1);
  const checkpoint = parseNote(note);
  const keyId = Buffer.from(entry.logId?.keyId ?? Buffer.alloc(0));
  const log = tlogs.find((tlog) => sigstoreCrypto.bufferEqual(tlog.logID, keyId));
  if (log === undefined) {
    throw invalid(
      `no transparency log of the trusted root has the entry's key id ${keyId.toString("base64")}`,
    );
  }
  const hint = log.logID.subarray(0, 4);
  const data = Buffer.from(note, "utf8");
  const verifiedNames = signatureLines(envelope.slice(split + 2))
    .filter((line) => sigstoreCrypto.bufferEqual(line.keyHint, hint))
    .filter((line) => sigstoreCrypto.verify(data, log.publicKey, line.signature))
    .map((line) => line.name);
  if (verifiedNames.length === 0) {
    throw invalid(
      `no signature of the checkpoint verifies with the key of ${log.baseURL} (key id ${keyId.toString("base64")})`,
    );
  }
  if (!verifiedNames.some((name) => originNamesSigner(checkpoint.origin, name))) {
    throw invalid(
      `the checkpoint's origin ${JSON.stringify(checkpoint.origin)} is not its signer's name ${JSON.stringify(verifiedNames[0])} (nor that name followed by " - <tree id>")`,
    );
  }
  if (isRekorV2(entry)) {
    const host = hostOf(log.baseURL);
    if (checkpoint.origin !== host) {
      throw invalid(
        `the checkpoint's origin ${JSON.stringify(checkpoint.origin)} is not the log's host ${JSON.stringify(host)}`,
      );
    }
  }
  return checkpoint;
}

function parseNote(note: string): VerifiedCheckpoint {
  const lines = note.slice(0, -1).split("\n");
  const [origin, size, hash, ...rest] = lines;
  if (origin === undefined || origin.length === 0 || size === undefined || hash === undefined) {
    throw invalid("the checkpoint note needs an origin, a tree size and a root hash");
  }
  if (!/^(0|[1-9][0-9]*)$/.test(size))
    throw invalid(`the checkpoint's tree size ${JSON.stringify(size)} is not a number`);
  const logHash = Buffer.from(hash, "base64");
  if (logHash.length !== 32 || logHash.toString("base64") !== hash) {
    throw invalid("the checkpoint's root hash is not 32 bytes of base64");
  }
  return { origin, logSize: BigInt(size), logHash, rest };
}

interface SignatureLine {
  readonly name: string;
  readonly keyHint: Buffer;
  readonly signature: Buffer;
}

/** `— <name> <base64(key hint ‖ signature)>` per line; a line of another shape is refused. */
function signatureLines(text: string): SignatureLine[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length === 0) throw invalid("the checkpoint has no signature");
  return lines.map((line) => {
    if (!line.startsWith(EM_DASH_PREFIX))
      throw invalid("a checkpoint signature line does not start with an em dash");
    const body = line.slice(EM_DASH_PREFIX.length);
    const space = body.lastIndexOf(" ");
    const name = body.slice(0, space);
    const encoded = body.slice(space + 1);
    const bytes = Buffer.from(encoded, "base64");
    if (space <= 0 || bytes.length < 5 || bytes.toString("base64") !== encoded) {
      throw invalid("a checkpoint signature line is not `— <name> <base64>`");
    }
    return { name, keyHint: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
}

function originNamesSigner(origin: string, name: string): boolean {
  if (origin === name) return true;
  if (!origin.startsWith(`${name}${TREE_ID_SEPARATOR}`)) return false;
  const treeId = origin.slice(name.length + TREE_ID_SEPARATOR.length);
  return /^[0-9]+$/.test(treeId);
}

/** Rekor v2 writes hashedrekord and dsse at 0.0.2 (Rekor v1's intoto is also 0.0.2, hence the kind). */
function isRekorV2(entry: TransparencyLogEntry): boolean {
  const kind = entry.kindVersion?.kind;
  return (kind === "hashedrekord" || kind === "dsse") && entry.kindVersion?.version === "0.0.2";
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

function invalid(why: string): VerifyError {
  return new VerifyError("IC_SIGNATURE_TLOG", `the transparency-log checkpoint is not valid: ${why}`);
}
