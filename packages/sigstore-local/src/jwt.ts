import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { SigningIdentity } from "./identity.js";

const TOKEN_LIFETIME_SECONDS = 600;

/**
 * Mints OIDC identity tokens for the local Fulcio. They are signed (ES256) with a key that lives only in
 * this process; the mock Fulcio reads the claims without checking the signature, but the tokens have the
 * shape of real ones so the client code treats them as such.
 */
export class IdentityTokenMinter {
  readonly #key: KeyObject = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  readonly #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
  }

  mint(identity: SigningIdentity): string {
    if (identity.subject.length === 0) throw new TypeError("SigningIdentity.subject must not be empty");
    if (identity.issuer.length === 0) throw new TypeError("SigningIdentity.issuer must not be empty");
    const iat = Math.floor(this.#now().getTime() / 1000);
    const payload: Record<string, string | number | boolean> = {
      aud: "sigstore",
      iat,
      nbf: iat,
      exp: iat + TOKEN_LIFETIME_SECONDS,
      ...identity.claims,
      // The mock Fulcio takes the SAN from `sub` and the issuer extensions from `iss`: these win.
      sub: identity.subject,
      iss: identity.issuer,
    };
    // @sigstore/sign proves possession over `email` when present, and insists it be verified.
    if (isEmail(identity.subject)) {
      payload.email = identity.subject;
      payload.email_verified = true;
    }
    const header = encode({ alg: "ES256", typ: "JWT", kid: "sigstore-local" });
    const body = encode(payload);
    const signature = sign("sha256", Buffer.from(`${header}.${body}`), {
      key: this.#key,
      dsaEncoding: "ieee-p1363",
    });
    return `${header}.${body}.${signature.toString("base64url")}`;
  }
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function isEmail(subject: string): boolean {
  return /^[^@\s/:]+@[^@\s/:]+$/.test(subject);
}
