import { sign, verify } from "node:crypto";
import { GatewayError } from "../errors.js";
import { canonicalJson } from "./canonical-json.js";
import { type HostKey, type PublicHostKey, publicKeyFromPem } from "./host-key.js";
import { HEX64, ISO_TIME } from "./record.js";

/** A signed statement "record `seq` of this log has hash `hash`"; a user may keep one to detect rewrites later. */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  readonly keyId: string;
  /** Base64 ed25519 signature over the canonical JSON of {seq, hash, time, keyId}. */
  readonly signature: string;
}

const CHECKPOINT_KEYS = ["hash", "keyId", "seq", "signature", "time"];
const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

function signedBytes(checkpoint: Omit<Checkpoint, "signature">): Buffer {
  const { seq, hash, time, keyId } = checkpoint;
  return Buffer.from(canonicalJson({ seq, hash, time, keyId }), "utf8");
}

export function signCheckpoint(
  key: Pick<HostKey, "privateKey" | "keyId">,
  head: { readonly seq: number; readonly hash: string },
  time: string,
): Checkpoint {
  const unsigned = { seq: head.seq, hash: head.hash, time, keyId: key.keyId };
  const signature = sign(null, signedBytes(unsigned), key.privateKey).toString("base64");
  return { ...unsigned, signature };
}

/** The line stored in checkpoints.jsonl. */
export function checkpointLine(checkpoint: Checkpoint): string {
  const { seq, hash, time, keyId, signature } = checkpoint;
  return `${canonicalJson({ seq, hash, time, keyId, signature })}\n`;
}

/** Checks a value is exactly a checkpoint: the five keys with the right types, nothing else. */
export function parseCheckpoint(value: unknown, where = "the checkpoint"): Checkpoint {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw checkpointError(undefined, `expected ${where} to be a JSON object, found ${typeof value}`);
  }
  const object = value as Record<string, unknown>;
  const seq =
    Number.isSafeInteger(object.seq) && (object.seq as number) >= 0 ? (object.seq as number) : undefined;
  const keys = Object.keys(object).sort();
  if (keys.join(",") !== CHECKPOINT_KEYS.join(",")) {
    throw checkpointError(
      seq,
      `expected ${where} to have exactly the keys ${CHECKPOINT_KEYS.join(", ")}, found ${keys.join(", ")}`,
    );
  }
  if (seq === undefined) throw checkpointError(seq, `expected ${where} to have a non-negative integer seq`);
  const { hash, time, keyId, signature } = object;
  if (typeof hash !== "string" || !HEX64.test(hash))
    throw checkpointError(seq, `expected ${where} hash as 64 lowercase hex`);
  if (typeof time !== "string" || !ISO_TIME.test(time))
    throw checkpointError(seq, `expected ${where} time as ISO-8601`);
  if (typeof keyId !== "string" || !HEX64.test(keyId))
    throw checkpointError(seq, `expected ${where} keyId as 64 lowercase hex`);
  if (typeof signature !== "string" || !SIGNATURE.test(signature)) {
    throw checkpointError(seq, `expected ${where} signature as base64 of 64 bytes`);
  }
  return { seq, hash, time, keyId, signature };
}

/** Parses one checkpoints.jsonl line (without LF), which must be canonical JSON. */
export function parseCheckpointLine(line: string, where: string): Checkpoint {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw checkpointError(
      undefined,
      `expected ${where} to be one JSON object, found text that does not parse`,
    );
  }
  const checkpoint = parseCheckpoint(value, where);
  if (checkpointLine(checkpoint) !== `${line}\n`) {
    throw checkpointError(checkpoint.seq, `expected ${where} to be canonical JSON, found other bytes`);
  }
  return checkpoint;
}

/**
 * Checks a checkpoint's shape and that the host key signed it; throws IC_AUDIT_CHECKPOINT otherwise.
 * It does not look at the log: that the log agrees is checked while the log is read.
 */
export function verifyCheckpoint(
  value: unknown,
  key: string | PublicHostKey,
  where = "the checkpoint",
): Checkpoint {
  const publicKey = typeof key === "string" ? publicKeyFromPem(key) : key;
  const checkpoint = parseCheckpoint(value, where);
  if (checkpoint.keyId !== publicKey.keyId) {
    throw checkpointError(
      checkpoint.seq,
      `expected ${where} to be signed by the host key ${publicKey.keyId}, found key ${checkpoint.keyId}; ` +
        "if the host key was replaced, restore host-key.pem, otherwise the checkpoint is forged",
    );
  }
  if (
    !verify(null, signedBytes(checkpoint), publicKey.publicKey, Buffer.from(checkpoint.signature, "base64"))
  ) {
    throw checkpointError(
      checkpoint.seq,
      `expected ${where} to carry a valid signature by key ${publicKey.keyId}, found one that does not verify: it was forged or edited`,
    );
  }
  return checkpoint;
}

export function checkpointError(seq: number | undefined, message: string): GatewayError {
  return new GatewayError(
    "IC_AUDIT_CHECKPOINT",
    message,
    seq === undefined || seq === 0 ? {} : { record: seq },
  );
}
