import { isIP } from "node:net";

/**
 * Why a host is refused as an egress target, or undefined when it is well formed. Exact names only:
 * no wildcards, no trailing dot, lower case, and an IP literal only when the change says it is one.
 */
export function egressHostProblem(host: string, ipLiteral: boolean): string | undefined {
  const ipVersion = isIP(host);
  if (ipVersion !== 0) {
    if (!ipLiteral)
      return `${host} is an IP literal; name it with "ipLiteral": true to approve that exact address`;
    if (ipVersion === 6 && host !== host.toLowerCase())
      return "an IPv6 literal must be written in lower case";
    return undefined;
  }
  if (ipLiteral) return `"ipLiteral" is set but ${JSON.stringify(host)} is not an IP address`;
  if (host.includes("*")) return "wildcards are not allowed: name each host exactly";
  if (host !== host.toLowerCase()) return "a host name must be written in lower case";
  if (host.endsWith(".")) return "a host name must not end with a dot";
  if (host.length > 253) return "a host name is at most 253 characters";
  const labels = host.split(".");
  if (labels.length < 2) return `${JSON.stringify(host)} is not a fully qualified host name`;
  for (const label of labels) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) {
      return `${JSON.stringify(label)} is not a valid host-name label (a-z, 0-9, '-', 1 to 63 characters)`;
    }
  }
  // A numeric last label makes URL parsers read the name as an IPv4 address (0x7f.1, 2130706433, 1.2.3).
  if (/^(?:0x[0-9a-f]*|\d+)$/.test(labels[labels.length - 1] ?? "")) {
    return `${JSON.stringify(host)} is an IPv4 address in another spelling`;
  }
  return undefined;
}
