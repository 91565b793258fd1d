import { isIP } from "node:net";

/**
 * The canonical text of an IP literal (IPv6 lower case and compressed), or undefined when the text is
 * not one. Comparing canonical forms is what lets `FD7A:115C:A1E0:0::1` match `fd7a:115c:a1e0::1`.
 * Zone ids (`fe80::1%eth0`) are not accepted: the API never listens on link-local addresses.
 */
export function canonicalIp(text: string): string | undefined {
  const family = isIP(text);
  if (family === 4) return text; // node:net already refuses leading zeros and short forms.
  if (family !== 6 || text.includes("%")) return undefined;
  return new URL(`http://[${text}]`).hostname.slice(1, -1);
}

/** A peer's address as a stable key: dual-stack sockets report IPv4 peers as `::ffff:a.b.c.d`. */
export function remoteAddressKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? canonicalIp(address) ?? address;
}
