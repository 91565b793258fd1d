import { isIP } from "node:net";
import { CliError } from "../errors.js";

/** How many redirects one download may take: GitHub needs one (to its object storage). */
export const MAX_REDIRECTS = 5;

/** 127.0.0.0/8, ::1 and the name localhost: this machine, where plain HTTP cannot be intercepted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** A release base must be HTTPS, or HTTP on this machine (a mirror under test, a local release server). */
export function assertSecureBase(base: URL): void {
  if (base.protocol === "https:") return;
  if (base.protocol === "http:" && isLoopbackHost(base.hostname)) return;
  throw new CliError(
    "IC_NETWORK_INSECURE",
    `refusing ${base.href}: releases are fetched over HTTPS (plain HTTP only to loopback)`,
  );
}

/**
 * Where a redirect may lead, judged against the base the user chose: from an HTTPS base only to
 * HTTPS, on any host (integrity comes from the signature, not the host, and GitHub serves assets
 * from another host); from a loopback HTTP base only to loopback. Checked before the next request.
 */
export function assertRedirectAllowed(base: URL, from: URL, to: URL): void {
  const refuse = (why: string) => {
    throw new CliError(
      "IC_NETWORK_REDIRECT_REFUSED",
      `${from.href} redirected to ${to.href}, which ${why}; nothing was fetched from there`,
    );
  };
  if (to.protocol !== "https:" && to.protocol !== "http:") refuse("is not HTTP(S)");
  if (to.username !== "" || to.password !== "") refuse("carries credentials");
  if (base.protocol === "https:") {
    if (to.protocol !== "https:") refuse(`is not HTTPS, and the release base ${base.origin} is`);
    return;
  }
  if (!isLoopbackHost(to.hostname))
    refuse(`leaves this machine, and the plain-HTTP base ${base.origin} may not`);
}
