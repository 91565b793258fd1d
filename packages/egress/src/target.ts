import type { RefusalReason } from "./reasons.js";

/** A syntactic `host[:port]`, not yet judged: a name lower-cased, an `[IPv6]` as written without brackets. */
export interface Authority {
  readonly host: string;
  readonly bracketed: boolean;
  readonly port: number;
}

/** An absolute-form `https://authority/path?query`, parsed by hand so no URL parser normalises it first. */
export interface AbsoluteTarget {
  readonly authority: Authority;
  /** Sent upstream as is: always starts with "/". */
  readonly pathAndQuery: string;
  /** Without the query, which may carry secrets: what the audit event records. */
  readonly path: string;
}

export interface Refusal {
  readonly reason: RefusalReason;
  readonly message: string;
  /** What is known of the host for the audit event; never userinfo. */
  readonly host?: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & Refusal);

const MAX_AUDIT_HOST = 255;
const MAX_AUDIT_PATH = 2048;
// Visible ASCII only: no spaces, controls or raw non-ASCII, which parsers disagree about.
const VISIBLE = /^[\x21-\x7e]*$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const HOST_CHARS = /^[a-z0-9.-]+$/;
const PORT = /^[1-9][0-9]{0,4}$/;

export function refuse(reason: RefusalReason, message: string, host?: string): Parsed<never> {
  return host === undefined
    ? { ok: false, reason, message }
    : { ok: false, reason, message, host: host.slice(0, MAX_AUDIT_HOST) };
}

export function parseAbsoluteTarget(raw: string): Parsed<AbsoluteTarget> {
  if (raw === "*" || raw.startsWith("/")) {
    return refuse(
      "not_absolute_form",
      `expected an absolute https:// URL as the request target, found ${raw === "*" ? "*" : "a path"}; send the whole URL, as to a forward proxy`,
    );
  }
  // WHATWG parsers read "\" as "/" in https URLs; refusing it keeps one reading of every target.
  if (!VISIBLE.test(raw) || raw.includes("\\")) {
    return refuse("bad_target", "expected a request target of visible ASCII characters without backslashes");
  }
  const scheme = SCHEME.exec(raw)?.[1];
  if (scheme === undefined)
    return refuse("bad_target", "expected a request target that starts with https://");
  if (scheme.toLowerCase() !== "https") {
    return refuse("scheme_not_https", `expected an https:// URL, found ${scheme}:; only https is brokered`);
  }
  const rest = raw.slice(scheme.length + 1);
  if (!rest.startsWith("//")) return refuse("bad_target", "expected https:// followed by a host");
  const end = rest.slice(2).search(/[/?#]/);
  const authorityText = end === -1 ? rest.slice(2) : rest.slice(2, end + 2);
  const tail = end === -1 ? "" : rest.slice(end + 2);
  const authority = parseAuthority(authorityText);
  if (!authority.ok) return authority;
  if (tail.includes("#")) {
    return refuse("fragment", "expected no #fragment in the request target", authority.value.host);
  }
  const pathAndQuery = tail.startsWith("/") ? tail : `/${tail}`;
  const queryStart = pathAndQuery.indexOf("?");
  const path = queryStart === -1 ? pathAndQuery : pathAndQuery.slice(0, queryStart);
  return {
    ok: true,
    value: { authority: authority.value, pathAndQuery, path: path.slice(0, MAX_AUDIT_PATH) },
  };
}

/** `host[:port]` as in a request target or a Host header. Syntax only: spelling rules come later. */
export function parseAuthority(text: string): Parsed<Authority> {
  const at = text.lastIndexOf("@");
  if (at !== -1) {
    const host = text.slice(at + 1).replace(/:[^\]]*$/, "");
    return refuse("userinfo", "expected no user:password@ in the URL; credentials never go in a URL", host);
  }
  let hostText: string;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close === -1) return refuse("bad_host", "expected a ] closing the IPv6 address", text);
    // Case kept: an upper-case IPv6 literal is a non-canonical spelling, refused when judged.
    hostText = text.slice(1, close);
    bracketed = true;
    const after = text.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) return refuse("bad_host", "expected :port after ]", hostText);
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const colon = text.indexOf(":");
    hostText = (colon === -1 ? text : text.slice(0, colon)).toLowerCase();
    portText = colon === -1 ? undefined : text.slice(colon + 1);
    if (hostText === "") return refuse("empty_host", "expected a host after https://");
    if (hostText.includes("%")) {
      return refuse("bad_host", "expected a host without percent-encoding; write it out", hostText);
    }
    if (!HOST_CHARS.test(hostText)) {
      return refuse(
        "bad_host",
        "expected a host of a-z, 0-9, '-' and '.'; write IDNs as xn-- labels",
        hostText,
      );
    }
  }
  if (hostText === "") return refuse("empty_host", "expected a host after https://");
  if (portText !== undefined && (!PORT.test(portText) || Number(portText) > 65535)) {
    return refuse("bad_target", "expected a port from 1 to 65535 without leading zeros", hostText);
  }
  return {
    ok: true,
    value: { host: hostText, bracketed, port: portText === undefined ? 443 : Number(portText) },
  };
}

/** The authority as a Host header names it: the port only when it is not 443. */
export function formatAuthority(host: string, ipv6: boolean, port: number): string {
  const name = ipv6 ? `[${host}]` : host;
  return port === 443 ? name : `${name}:${port}`;
}
