import { judgeHost } from "./host.js";
import { addressClass, canonicalIp, embeddedIPv4, parseIPv6 } from "./ip.js";
import type { RefusalReason } from "./reasons.js";
import { formatAuthority, parseAbsoluteTarget, parseAuthority, type Refusal } from "./target.js";
import type { EgressRule, ResolvedAddress } from "./types.js";

/** What the decision needs of a request: its method, its raw target and every Host header it carried. */
export interface EgressRequestHead {
  readonly method: string;
  readonly target: string;
  readonly hostHeaders: readonly string[];
}

/** A target that passed every rule but, for a name, the check of what it resolves to. */
export interface EgressTarget {
  /** A lower-case name, or a canonical IP literal without brackets. */
  readonly host: string;
  readonly kind: "name" | "ipv4" | "ipv6";
  readonly port: number;
  /** The Host header sent upstream. */
  readonly authority: string;
  readonly pathAndQuery: string;
  readonly path: string;
}

export type EgressCheck =
  | { readonly allowed: true; readonly reason: "ok"; readonly target: EgressTarget }
  | {
      readonly allowed: false;
      readonly reason: RefusalReason;
      readonly message: string;
      readonly host: string;
      readonly port: number | null;
      readonly path: string;
    };

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * The broker's whole decision, pure: the request head against the allowlist and, for a host name, the
 * addresses it resolved to. Without `addresses` a name is judged up to its resolution, which the broker
 * does at connect time, so that the addresses checked are the ones connected to.
 */
export function checkEgressTarget(
  request: EgressRequestHead,
  allowlist: readonly EgressRule[],
  addresses?: readonly ResolvedAddress[],
): EgressCheck {
  const deny = (refusal: Refusal, port: number | null = null, path = ""): EgressCheck => ({
    allowed: false,
    reason: refusal.reason,
    message: refusal.message,
    host: refusal.host ?? "",
    port,
    path,
  });
  if (request.method === "CONNECT") {
    const authority = parseAuthority(request.target);
    const host = authority.ok ? authority.value.host : "";
    const message = "expected no CONNECT: the broker opens no tunnels; send https:// requests to it instead";
    return deny({ reason: "connect_refused", message, host }, authority.ok ? authority.value.port : null);
  }
  if (!METHODS.has(request.method)) {
    const message = `expected one of ${[...METHODS].join(", ")}, found ${request.method}`;
    return deny({ reason: "method_not_allowed", message });
  }
  const parsed = parseAbsoluteTarget(request.target);
  if (!parsed.ok) return deny(parsed);
  const { authority, path, pathAndQuery } = parsed.value;
  const at = (refusal: Refusal): EgressCheck =>
    deny({ host: authority.host, ...refusal }, authority.port, path);

  const hostProblem = hostHeaderProblem(request.hostHeaders, authority);
  if (hostProblem !== undefined) return at({ reason: "host_header_mismatch", message: hostProblem });
  const judged = judgeHost(authority);
  if (!judged.ok) return at(judged);
  const { host, kind } = judged.value;
  if (!onAllowlist(allowlist, host, authority.port)) {
    const listed = allowlist.some((rule) => rule.host === host);
    const message = listed
      ? `expected an approved port for ${host}, found ${authority.port}; ask for an approved change`
      : `expected an approved host, found ${host}:${authority.port}; ask for an approved change`;
    return at({ reason: kind === "name" ? "not_on_allowlist" : "ip_literal_not_approved", message });
  }
  const target: EgressTarget = {
    host,
    kind,
    port: authority.port,
    authority: formatAuthority(host, kind === "ipv6", authority.port),
    pathAndQuery,
    path,
  };
  if (addresses !== undefined && kind === "name") {
    const problem = checkResolvedAddresses(target, addresses, allowlist);
    if (problem !== undefined) return at(problem);
  }
  return { allowed: true, reason: "ok", target };
}

/**
 * A name may resolve only to public addresses: ANY private, loopback, link-local, metadata, multicast or
 * reserved one refuses the lot, unless that exact address is approved for the port.
 */
export function checkResolvedAddresses(
  target: Pick<EgressTarget, "host" | "port">,
  addresses: readonly ResolvedAddress[],
  allowlist: readonly EgressRule[],
): Refusal | undefined {
  if (addresses.length === 0) return { reason: "dns_error", message: `${target.host} resolved to nothing` };
  for (const { address } of addresses) {
    const canonical = canonicalIp(address);
    const kind = canonical === undefined ? "not an IP address" : addressClass(canonical);
    if (kind === undefined) continue;
    const v4 = canonical === undefined ? undefined : embeddedIPv4(parseIPv6(canonical) ?? []);
    if (canonical !== undefined && onAllowlist(allowlist, canonical, target.port)) continue;
    if (v4 !== undefined && onAllowlist(allowlist, v4, target.port)) continue;
    return {
      reason: "resolves_to_private_address",
      message: `expected ${target.host} to resolve to public addresses only, found ${address} (${kind})`,
    };
  }
  return undefined;
}

/**
 * A redirect is passed on only when its Location leads to an approved https host:port; relative ones
 * stay on the approved origin. Absolute ones are parsed by the same strict rules as request targets.
 */
export function checkRedirect(
  location: string,
  allowlist: readonly EgressRule[],
): { readonly reason: "redirect_not_allowed"; readonly message: string } | undefined {
  const hash = location.indexOf("#");
  const reference = hash === -1 ? location : location.slice(0, hash);
  const refused = (why: string) => ({
    reason: "redirect_not_allowed" as const,
    message: `the upstream redirected to a destination that is not approved: ${why}`,
  });
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(reference) || /^[/\\]{2}/.test(reference)) {
    const absolute = reference.startsWith("/") ? `https:${reference}` : reference;
    const parsed = parseAbsoluteTarget(absolute);
    if (!parsed.ok) return refused(parsed.message);
    const judged = judgeHost(parsed.value.authority);
    if (!judged.ok) return refused(judged.message);
    if (!onAllowlist(allowlist, judged.value.host, parsed.value.authority.port)) {
      return refused(`${judged.value.host}:${parsed.value.authority.port} is not on the allowlist`);
    }
    return undefined;
  }
  if (!/^[\x21-\x7e]*$/.test(reference) || reference.includes("\\")) {
    return refused("the Location header holds characters parsers disagree about");
  }
  return undefined;
}

function hostHeaderProblem(
  headers: readonly string[],
  authority: { readonly host: string; readonly port: number; readonly bracketed: boolean },
): string | undefined {
  if (headers.length !== 1) return `expected exactly one Host header, found ${headers.length}`;
  const parsed = parseAuthority(headers[0] ?? "");
  const expected = formatAuthority(authority.host, authority.bracketed, authority.port);
  if (
    !parsed.ok ||
    parsed.value.bracketed !== authority.bracketed ||
    parsed.value.host.toLowerCase() !== authority.host.toLowerCase() ||
    parsed.value.port !== authority.port
  ) {
    return `expected the Host header to name the target's authority ${expected}`;
  }
  return undefined;
}

function onAllowlist(allowlist: readonly EgressRule[], host: string, port: number): boolean {
  return allowlist.some(
    (rule) => rule.port === port && (rule.host === host || canonicalIp(rule.host) === host),
  );
}
