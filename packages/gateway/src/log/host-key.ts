import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { writeFileAtomic } from "../durable-file.js";
import { GatewayError } from "../errors.js";
import { isErrnoCode, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, statePath } from "./files.js";

/** The ed25519 key that signs checkpoints; `keyId` is the hex SHA-256 of the SPKI DER public key. */
export interface HostKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  readonly keyId: string;
}

export interface PublicHostKey {
  readonly publicKey: KeyObject;
  readonly keyId: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return hash("sha256", publicKey.export({ type: "spki", format: "der" }), "hex");
}

export function hostKeyFromPrivatePem(pem: string, where = "the host key"): HostKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw keyError(
      `expected ${where} as a PKCS#8 PEM private key, found something that does not parse`,
      cause,
    );
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw keyError(
      `expected ${where} to be an ed25519 key, found ${privateKey.asymmetricKeyType ?? "another kind"}`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { privateKey, publicKey, publicKeyPem, keyId: keyIdOf(publicKey) };
}

export function publicKeyFromPem(pem: string, where = "the host public key"): PublicHostKey {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (cause) {
    throw keyError(`expected ${where} as an SPKI PEM public key, found something that does not parse`, cause);
  }
  if (publicKey.asymmetricKeyType !== "ed25519") {
    throw keyError(
      `expected ${where} to be an ed25519 key, found ${publicKey.asymmetricKeyType ?? "another kind"}`,
    );
  }
  return { publicKey, keyId: keyIdOf(publicKey) };
}

/** Loads host-key.pem (0600) and host-key.pub.pem (0644), creating them when the private key is missing. */
export async function loadOrCreateHostKey(dir: string): Promise<HostKey> {
  const privatePath = statePath(dir, PRIVATE_KEY_FILE);
  const publicPath = statePath(dir, PUBLIC_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(privatePath, "utf8");
  } catch (error) {
    if (!isErrnoCode(error, "ENOENT")) throw error;
    const fresh = generateKeyPairSync("ed25519")
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const created = hostKeyFromPrivatePem(fresh);
    await writeFileAtomic(privatePath, fresh, 0o600);
    await writeFileAtomic(publicPath, created.publicKeyPem, 0o644);
    return created;
  }
  const mode = (await stat(privatePath)).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw keyError(
      `expected ${privatePath} to be readable only by its owner (mode 600), found mode ${mode.toString(8)}; run chmod 600 on it`,
    );
  }
  const key = hostKeyFromPrivatePem(pem, privatePath);
  let publicPem: string | undefined;
  try {
    publicPem = await readFile(publicPath, "utf8");
  } catch (error) {
    if (!isErrnoCode(error, "ENOENT")) throw error;
  }
  if (publicPem === undefined) {
    await writeFileAtomic(publicPath, key.publicKeyPem, 0o644);
  } else if (publicKeyFromPem(publicPem, publicPath).keyId !== key.keyId) {
    throw keyError(
      `expected ${publicPath} to hold the public half of ${privatePath} (key ${key.keyId}), found another key; ` +
        "delete it to have it written again from the private key",
    );
  }
  return key;
}

function keyError(message: string, cause?: unknown): GatewayError {
  return new GatewayError("IC_AUDIT_KEY", message, { cause });
}
