import { embeddedIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.js";
import { type Authority, type Parsed, refuse } from "./target.js";

/** A host the allowlist can be asked about: a lower-case name, or an IP literal in its one canonical spelling. */
export interface JudgedHost {
  readonly host: string;
  readonly kind: "name" | "ipv4" | "ipv6";
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// WHATWG URL parsers read a host whose last label is numeric as IPv4 (0x7f.1, 2130706433, 127.1).
const NUMERIC_LABEL = /^(?:0x[0-9a-f]*|[0-9]+)$/;

/**
 * Mirrors the rules approved changes follow (gateway hosts.ts): exact lower-case names with no trailing
 * dot, and IP literals only in canonical form. Any other spelling of an address is refused outright,
 * so that no parser downstream can turn it into an address that happens to be approved.
 */
export function judgeHost(authority: Authority): Parsed<JudgedHost> {
  const { host } = authority;
  if (authority.bracketed) return judgeIPv6(host);
  const labels = host.split(".");
  const last = labels[labels.length - 1] === "" ? labels[labels.length - 2] : labels[labels.length - 1];
  if (NUMERIC_LABEL.test(last ?? "")) {
    if (parseIPv4(host) !== undefined) return { ok: true, value: { host, kind: "ipv4" } };
    return refuse(
      "ip_literal_not_canonical",
      `expected an IPv4 address in dotted decimal (a.b.c.d, no leading zeros), found ${JSON.stringify(host)}`,
      host,
    );
  }
  if (host.endsWith(".")) {
    return refuse("trailing_dot", "expected a host name without a trailing dot, as approved", host);
  }
  if (host.length > 253 || !labels.every((label) => LABEL.test(label))) {
    return refuse(
      "bad_host",
      `expected a host name of labels a-z, 0-9 and '-', found ${JSON.stringify(host)}`,
      host,
    );
  }
  return { ok: true, value: { host, kind: "name" } };
}

function judgeIPv6(host: string): Parsed<JudgedHost> {
  if (host.includes("%")) {
    return refuse("ip_literal_not_canonical", "expected an IPv6 address without a zone id", host);
  }
  const groups = parseIPv6(host);
  if (groups === undefined) return refuse("bad_host", `expected an IPv6 address in [ ], found ${host}`, host);
  const canonical = formatIPv6(groups);
  const [g0, g1, g2, g3, g4, g5] = groups;
  // ::ffff:a.b.c.d and ::a.b.c.d are IPv4 addresses in disguise: their one spelling is a.b.c.d.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && (g5 === 0xffff || g5 === 0)) {
    const v4 = embeddedIPv4(groups);
    if (canonical !== "::" && canonical !== "::1" && v4 !== undefined) {
      return refuse("ip_literal_not_canonical", `expected the IPv4 address written as ${v4}`, host);
    }
  }
  if (host !== canonical) {
    return refuse(
      "ip_literal_not_canonical",
      `expected the IPv6 address in canonical form (RFC 5952) [${canonical}], found [${host}]`,
      host,
    );
  }
  return { ok: true, value: { host, kind: "ipv6" } };
}
