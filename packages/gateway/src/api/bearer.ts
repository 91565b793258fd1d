/** What an `Authorization` header holds, parsed strictly; callers never see the token in a reason. */
export type BearerCredentials =
  | { readonly kind: "missing" }
  | { readonly kind: "malformed"; readonly reason: string }
  | { readonly kind: "token"; readonly token: string };

// RFC 7235: scheme is a token, then exactly one space; RFC 6750 b64token for the credentials.
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([A-Za-z0-9._~+/-]+=*)$/;

export function parseBearer(header: string | undefined): BearerCredentials {
  if (header === undefined || header === "") return { kind: "missing" };
  const match = HEADER.exec(header);
  if (!match)
    return { kind: "malformed", reason: "malformed Authorization header (expected `Bearer <token>`)" };
  if (match[1]?.toLowerCase() !== "bearer") {
    return { kind: "malformed", reason: "Authorization scheme is not Bearer" };
  }
  return { kind: "token", token: match[2] ?? "" };
}
