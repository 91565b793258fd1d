import { GatewayError } from "../errors.js";

export interface RequestTarget {
  /** Percent-decoded, e.g. `/v1/changes/c42`; never holds `.`/`..` segments, `//`, slashes in a segment or controls. */
  readonly path: string;
  readonly query: URLSearchParams;
}

// RFC 3986 pchar plus "/": anything else (space, backslash, NUL, non-ASCII, "#") has no business here.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Accepts only origin-form targets (`/path?query`). The path is checked before and after decoding, so
 * that no spelling of `..`, `/`, `\` or NUL reaches a route that might build a file path from it.
 */
export function parseRequestTarget(target: string): RequestTarget {
  if (!target.startsWith("/")) {
    throw bad(
      /^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)
        ? `expected a request target that is a path (origin-form, e.g. /v1/changes), found an absolute URL; send the path only`
        : `expected a request target that starts with "/", found ${JSON.stringify(target.slice(0, 64))}`,
    );
  }
  const queryStart = target.indexOf("?");
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? "" : target.slice(queryStart + 1);
  if (!PATH_CHARS.test(rawPath) || target.includes("#")) {
    throw bad(
      "expected a path of URL characters only, found a space, backslash, control, fragment or non-ASCII character; percent-encode it",
    );
  }
  const segments = rawPath.slice(1).split("/");
  const decoded = segments.map((segment, index) => {
    if (segment === "" && index < segments.length - 1)
      throw bad(`expected no empty path segment ("//") in ${rawPath}`);
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      throw bad(`expected valid percent-encoding in the path, found ${JSON.stringify(segment)}`);
    }
    if (text === "." || text === "..") throw bad(`expected no "." or ".." segment in the path ${rawPath}`);
    if (text.includes("/") || text.includes("\\"))
      throw bad(`expected no encoded "/" or "\\" in the path ${rawPath}`);
    if (CONTROL.test(text)) throw bad(`expected no NUL or other control character in the path ${rawPath}`);
    return text;
  });
  return { path: `/${decoded.join("/")}`, query: new URLSearchParams(rawQuery) };
}

function bad(message: string): GatewayError {
  return new GatewayError("IC_API_BAD_REQUEST", message);
}
