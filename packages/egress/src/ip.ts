import { isIP } from "node:net";

/** Why an address is not a public one the broker may reach by name. */
export type AddressClass =
  | "unspecified"
  | "loopback"
  | "private"
  | "link_local"
  | "metadata"
  | "multicast"
  | "broadcast"
  | "reserved";

/** Strict dotted decimal: node:net refuses octal, hex, short forms and leading zeros. */
export function parseIPv4(text: string): number[] | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split(".").map(Number);
}

/** Eight 16-bit groups, or undefined for anything else (zone ids included: they name an interface). */
export function parseIPv6(text: string): number[] | undefined {
  if (isIP(text) !== 6 || text.includes("%")) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    head = text.slice(0, lastColon);
    if (head.endsWith(":")) head += ":";
  }
  const hex = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16));
  const halves = head.split("::");
  const left = hex(halves[0] ?? "");
  const right = halves.length === 2 ? hex(halves[1] ?? "") : [];
  const zeros = halves.length === 2 ? 8 - left.length - right.length - tail.length : 0;
  const groups = [...left, ...new Array<number>(zeros).fill(0), ...right, ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

/** RFC 5952 text: lower case, no leading zeros, the first longest run of two or more zero groups as `::`. */
export function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < groups.length; ) {
    if (groups[start] !== 0) {
      start += 1;
      continue;
    }
    let end = start;
    while (end < groups.length && groups[end] === 0) end += 1;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart === -1) return text.join(":");
  return `${text.slice(0, bestStart).join(":")}::${text.slice(bestStart + bestLength).join(":")}`;
}

/** The one spelling of an address the allowlist may hold, or undefined when the text is no address. */
export function canonicalIp(text: string): string | undefined {
  if (parseIPv4(text) !== undefined) return text;
  const groups = parseIPv6(text);
  return groups === undefined ? undefined : formatIPv6(groups);
}

/**
 * The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) and
 * NAT64 (64:ff9b::/96). Sockets and NAT64 gateways deliver these to the IPv4 host, so they are judged as it.
 */
export function embeddedIPv4(groups: readonly number[]): string | undefined {
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = groups;
  const mapped = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff;
  const compatible = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  const nat64 = g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0;
  if (!mapped && !compatible && !nat64) return undefined;
  return [g6 >> 8, g6 & 0xff, g7 >> 8, g7 & 0xff].join(".");
}

/** The class of a non-public address, or undefined for a public one. Unparsable text is "reserved". */
export function addressClass(address: string): AddressClass | undefined {
  const v4 = parseIPv4(address);
  if (v4 !== undefined) return ipv4Class(v4);
  const groups = parseIPv6(address);
  if (groups === undefined) return "reserved";
  const own = ipv6Class(groups);
  if (own !== undefined) return own;
  const inner = embeddedIPv4(groups);
  return inner === undefined ? undefined : addressClass(inner);
}

function ipv4Class([a = 0, b = 0, c = 0, d = 0]: readonly number[]): AddressClass | undefined {
  if (a === 0) return "unspecified"; // 0.0.0.0/8: "this network", reaches the host itself
  if (a === 127) return "loopback";
  if (a === 169 && b === 254) return c === 169 && d === 254 ? "metadata" : "link_local";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private";
  if (a === 100 && b >= 64 && b <= 127) return "private"; // carrier-grade NAT, also cloud internals
  if (a === 192 && b === 0 && c === 0) return "reserved";
  if (a === 198 && (b === 18 || b === 19)) return "reserved";
  if (a >= 224 && a <= 239) return "multicast";
  if (a === 255 && b === 255 && c === 255 && d === 255) return "broadcast";
  if (a >= 240) return "reserved";
  return undefined;
}

function ipv6Class(groups: readonly number[]): AddressClass | undefined {
  const [g0 = 0] = groups;
  const text = formatIPv6(groups);
  if (text === "::") return "unspecified";
  if (text === "::1") return "loopback";
  if (text === "fd00:ec2::254") return "metadata";
  if ((g0 & 0xffc0) === 0xfe80) return "link_local";
  if ((g0 & 0xffc0) === 0xfec0 || (g0 & 0xfe00) === 0xfc00) return "private"; // site-local, unique local
  if ((g0 & 0xff00) === 0xff00) return "multicast";
  return undefined;
}
