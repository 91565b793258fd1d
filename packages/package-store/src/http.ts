import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { PackageStoreError } from "./errors.js";

/** How one GET is bounded: bytes, silence, and the whole answer. */
export interface FetchLimits {
  readonly maxBytes: number;
  /** Give up when nothing arrives for this long (connecting included). */
  readonly idleMs: number;
  /** Give up when the whole answer takes longer than this: a server that drips one byte a second. */
  readonly totalMs: number;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** The idle timeout's error, for the body reader: the response itself only says "aborted". */
const timedOut = new WeakMap<ClientRequest, PackageStoreError>();

/** 127.0.0.0/8, ::1 and localhost: this machine, where plain HTTP cannot be intercepted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** A registry (or a tarball origin) is HTTPS, or plain HTTP on this machine (a stand-in under test). */
export function parseOrigin(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PackageStoreError("IC_PACKAGE_REGISTRY_URL", `${what} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new PackageStoreError("IC_PACKAGE_REGISTRY_URL", `${what} ${url.origin} may not carry credentials`);
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return url;
  throw new PackageStoreError(
    "IC_PACKAGE_REGISTRY_URL",
    `${what} ${JSON.stringify(value)} is not HTTPS (plain HTTP only to loopback); packages are fetched over HTTPS`,
  );
}

/**
 * Where a request may go: only to the registry's own origin and those configured beside it, never
 * downgraded to plain HTTP off this machine. Judged before every request, redirects included, the way
 * the upgrade judges a release base's redirects, but stricter: integrity is checked afterwards, yet
 * what the host talks to is still the operator's choice, not the registry's.
 */
export function assertAllowed(url: URL, allowed: ReadonlySet<string>, from?: URL): void {
  const refuse = (why: string): never => {
    const what = from === undefined ? `refusing ${url.href}` : `${from.href} redirected to ${url.href}`;
    throw new PackageStoreError(
      from === undefined ? "IC_PACKAGE_REGISTRY_URL" : "IC_PACKAGE_REDIRECT_REFUSED",
      `${what}, which ${why}; nothing was fetched from there. Configure the origin beside the registry if it is meant`,
    );
  };
  if (url.protocol !== "https:" && url.protocol !== "http:") refuse("is not HTTP(S)");
  if (url.username !== "" || url.password !== "") refuse("carries credentials");
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) refuse("is plain HTTP off this machine");
  if (!allowed.has(url.origin)) refuse(`is not on the registry's origin (${[...allowed].join(", ")})`);
}

function networkError(url: URL, cause: unknown): PackageStoreError {
  if (cause instanceof PackageStoreError) return cause;
  const error = cause instanceof Error ? cause : new Error(String(cause));
  const code = (error as NodeJS.ErrnoException).code;
  return new PackageStoreError(
    "IC_PACKAGE_NETWORK",
    `fetching ${url.href} failed: ${error.message}${code === undefined ? "" : ` (${code})`}`,
    { cause },
  );
}

function openOnce(url: URL, limits: FetchLimits, accept: string, deadline: AbortSignal) {
  return new Promise<{ request: ClientRequest; response: IncomingMessage }>((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(url, {
      method: "GET",
      agent: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      timeout: limits.idleMs,
      headers: { accept, "user-agent": "ironclaw-package-store" },
      signal: deadline,
    });
    request.on("timeout", () => {
      const error = timeout(url, `nothing arrived for ${limits.idleMs} ms`);
      timedOut.set(request, error);
      request.destroy(error);
    });
    request.on("error", (error) => reject(networkError(url, deadline.aborted ? deadline.reason : error)));
    request.on("response", (response) => resolve({ request, response }));
    request.end();
  });
}

function timeout(url: URL, why: string): PackageStoreError {
  return new PackageStoreError(
    "IC_PACKAGE_TIMEOUT",
    `fetching ${url.href} gave up: ${why}; the registry is stalled or too slow, try again later`,
  );
}

function tooLarge(url: URL, what: string, max: number): PackageStoreError {
  return new PackageStoreError(
    "IC_PACKAGE_TOO_LARGE",
    `${url.href} ${what}; at most ${max} bytes are read from it, so it was refused`,
  );
}

/** One bounded GET of the whole body, following redirects only where `allowed` says. */
export async function fetchBytes(
  start: URL,
  allowed: ReadonlySet<string>,
  limits: FetchLimits,
  accept = "application/json",
): Promise<{ readonly status: number; readonly body: Buffer; readonly finalUrl: URL }> {
  assertAllowed(start, allowed);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(timeout(start, `the answer took longer than ${limits.totalMs} ms`)),
    limits.totalMs,
  );
  try {
    let url = start;
    const visited = new Set<string>();
    for (let hop = 0; ; hop++) {
      visited.add(url.href);
      const { request, response } = await openOnce(url, limits, accept, controller.signal);
      const status = response.statusCode ?? 0;
      if (REDIRECT_STATUS.has(status)) {
        // A redirect's body is never read: it could be endless.
        request.destroy();
        const next = redirectTarget(url, response.headers.location);
        assertAllowed(next, allowed, url);
        if (visited.has(next.href) || hop >= MAX_REDIRECTS) {
          throw new PackageStoreError(
            "IC_PACKAGE_REDIRECT_REFUSED",
            `${start.href} redirects in a loop or more than ${MAX_REDIRECTS} times (last to ${next.href})`,
          );
        }
        url = next;
        continue;
      }
      if (status !== 200) {
        request.destroy();
        return { status, body: Buffer.alloc(0), finalUrl: url };
      }
      return {
        status,
        body: await readBounded(url, request, response, limits.maxBytes, controller.signal),
        finalUrl: url,
      };
    }
  } finally {
    clearTimeout(timer);
  }
}

function redirectTarget(from: URL, location: string | undefined): URL {
  if (location === undefined) {
    throw new PackageStoreError("IC_PACKAGE_NETWORK", `${from.href} redirected without a Location`);
  }
  try {
    return new URL(location, from);
  } catch {
    throw new PackageStoreError("IC_PACKAGE_NETWORK", `${from.href} redirected to an invalid Location`);
  }
}

async function readBounded(
  url: URL,
  request: ClientRequest,
  response: IncomingMessage,
  maxBytes: number,
  deadline: AbortSignal,
): Promise<Buffer> {
  const header = response.headers["content-length"];
  if (header !== undefined) {
    const announced = Number(header);
    if (!Number.isSafeInteger(announced) || announced < 0) {
      request.destroy();
      throw new PackageStoreError("IC_PACKAGE_NETWORK", `${url.href} announced an invalid length`);
    }
    if (announced > maxBytes) {
      request.destroy();
      throw tooLarge(url, `announces ${announced} bytes`, maxBytes);
    }
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) throw tooLarge(url, `sent more than ${maxBytes} bytes`, maxBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    request.destroy();
    if (error instanceof PackageStoreError) throw error;
    throw networkError(url, timedOut.get(request) ?? (deadline.aborted ? deadline.reason : error));
  }
  if (!response.complete) {
    const stopped = timedOut.get(request) ?? (deadline.aborted ? deadline.reason : undefined);
    if (stopped instanceof PackageStoreError) throw stopped;
    throw new PackageStoreError("IC_PACKAGE_NETWORK", `${url.href} ended before the whole answer arrived`);
  }
  return Buffer.concat(chunks, received);
}
