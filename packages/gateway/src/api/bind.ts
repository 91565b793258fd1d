import { BlockList, isIP } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { GatewayError } from "../errors.js";
import { canonicalIp } from "./ip-address.js";

export const DEFAULT_API_PORT = 7878;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface BindOptions {
  readonly dev: boolean;
  readonly interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

const TAILSCALE_RANGES = "100.64.0.0/10 or fd7a:115c:a1e0::/48";

const tailscale = new BlockList();
tailscale.addSubnet("100.64.0.0", 10, "ipv4");
tailscale.addSubnet("fd7a:115c:a1e0::", 48, "ipv6");

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

// BlockList matches IPv4-mapped IPv6 against IPv4 rules and the reverse, so this is only asked of IPv6 text.
const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet("::ffff:0:0", 96, "ipv6");

/** Parses `--listen`: `ADDR:PORT` or `[IPv6]:PORT`, the address an IP literal (a name could resolve anywhere). */
export function parseListen(spec: string): ListenAddress {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(spec);
  const plain = bracketed ? undefined : /^([^:[\]]*):([^:]*)$/.exec(spec);
  const host = bracketed?.[1] ?? plain?.[1];
  const portText = bracketed?.[2] ?? plain?.[2];
  if (host === undefined || portText === undefined) {
    throw refused(
      `expected ADDR:PORT or [IPv6]:PORT (e.g. 100.101.102.103:7878 or [fd7a:115c:a1e0::1]:7878), found "${spec}"; put an IPv6 address in brackets`,
    );
  }
  const family = isIP(host);
  if (family === 0 || (bracketed !== null && family !== 6) || host.includes("%")) {
    throw refused(
      `expected an IP address to listen on, found "${host}" in "${spec}"; host names are not accepted because they could resolve to any interface — run \`tailscale ip\` and pass that address`,
    );
  }
  return { host, port: parsePort(portText, spec) };
}

function parsePort(text: string, spec: string): number {
  const port = /^(?:0|[1-9]\d{0,4})$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw refused(`expected a port from 0 to 65535 in "${spec}", found "${text}"`);
  }
  return port;
}

/**
 * Refuses every address but this host's own Tailscale address, and loopback in development: the API
 * grants approvals, so it must not be reachable from a LAN or the internet, not even by accident.
 */
export function checkBindAddress(host: string, options: BindOptions): void {
  const allowed = options.dev
    ? `this host's Tailscale address (${TAILSCALE_RANGES}) or loopback (127.0.0.1, ::1)`
    : `this host's Tailscale address (${TAILSCALE_RANGES}), or loopback with --dev`;
  const canonical = canonicalIp(host);
  if (canonical === undefined) {
    throw refused(
      `refusing to listen on "${host}": expected an IP address, found something else; use ${allowed}`,
    );
  }
  const family = isIP(canonical) === 4 ? "ipv4" : "ipv6";
  if (canonical === "0.0.0.0" || canonical === "::") {
    throw refused(`refusing to listen on ${host}: that is every interface of this host; use ${allowed}`);
  }
  // A mapped address opens an IPv6 socket for IPv4 traffic; refusing it keeps one spelling per address.
  if (family === "ipv6" && ipv4Mapped.check(canonical, "ipv6")) {
    throw refused(
      `refusing to listen on ${host}: IPv4-mapped IPv6 addresses are not accepted; write the IPv4 address itself, and use ${allowed}`,
    );
  }
  if (loopback.check(canonical, family)) {
    if (options.dev) return;
    throw refused(
      `refusing to listen on loopback ${host} without --dev: other local users and processes could reach it; use ${allowed}`,
    );
  }
  if (tailscale.check(canonical, family)) {
    const assigned = tailscaleAddresses(options.interfaces);
    if (assigned.includes(canonical)) return;
    throw refused(
      `refusing to listen on ${host}: it is in Tailscale's range but not on this host's Tailscale interface (tailscale0) (this host has ${assigned.length === 0 ? "no Tailscale address" : assigned.join(", ")}); an address of that range on another interface is carrier-grade NAT or a LAN, not the tailnet; start Tailscale or pass the address \`tailscale ip\` prints`,
    );
  }
  throw refused(`refusing to listen on ${host}: it is a LAN or public address; use ${allowed}`);
}

/** Development listens on loopback; otherwise on this host's Tailscale address, IPv4 first (what peers dial). */
export function defaultListen(options: BindOptions): ListenAddress {
  if (options.dev) return { host: "127.0.0.1", port: DEFAULT_API_PORT };
  const assigned = tailscaleAddresses(options.interfaces);
  const host = assigned.find((address) => isIP(address) === 4) ?? assigned[0];
  if (host === undefined) {
    throw refused(
      `found no Tailscale address (${TAILSCALE_RANGES}) on this host's interfaces; start Tailscale (\`tailscale up\`), or pass --dev to listen on 127.0.0.1`,
    );
  }
  return { host, port: DEFAULT_API_PORT };
}

/** Whether a client may send a token to `host`: loopback, or this host's own Tailscale address. */
export function isLocalControlHost(host: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): boolean {
  const canonical = canonicalIp(host);
  if (canonical === undefined) return false;
  const family = isIP(canonical) === 4 ? "ipv4" : "ipv6";
  return loopback.check(canonical, family) || tailscaleAddresses(interfaces).includes(canonical);
}

/** After listening: the socket must be bound to exactly what was asked for, not some wider address. */
export function confirmBoundAddress(
  requested: ListenAddress,
  actual: { address: string; port: number } | string | null,
): ListenAddress {
  const host = typeof actual === "object" && actual !== null ? canonicalIp(actual.address) : undefined;
  const port = typeof actual === "object" && actual !== null ? actual.port : undefined;
  const wanted = canonicalIp(requested.host);
  if (host === undefined || host !== wanted || (requested.port !== 0 && port !== requested.port)) {
    throw refused(
      `asked to listen on ${formatHostPort(requested)} but the socket is bound to ${
        typeof actual === "object" && actual !== null
          ? formatHostPort({ host: actual.address, port: actual.port })
          : String(actual)
      }; closed it — report this as a bug`,
    );
  }
  return { host, port: port ?? requested.port };
}

export function formatHostPort(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/**
 * Tailscale's own interface: `tailscale0` on Linux (`tailscaled --tun` may number it differently),
 * `Tailscale` on Windows. An address in 100.64.0.0/10 elsewhere is carrier-grade NAT or a LAN that
 * uses the range, not the tailnet.
 */
export const TAILSCALE_INTERFACE = /^tailscale\d*$/i;

/** The Tailscale addresses of this host: in Tailscale's ranges and on Tailscale's interface. */
export function tailscaleAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string[] {
  const found: string[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    if (!TAILSCALE_INTERFACE.test(name)) continue;
    for (const info of infos ?? []) {
      const canonical = canonicalIp(info.address);
      if (canonical === undefined) continue;
      if (tailscale.check(canonical, isIP(canonical) === 4 ? "ipv4" : "ipv6") && !found.includes(canonical)) {
        found.push(canonical);
      }
    }
  }
  return found;
}

function refused(message: string): GatewayError {
  return new GatewayError("IC_API_BIND_REFUSED", message);
}
