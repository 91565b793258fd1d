import { promises as dns } from "node:dns";
import { Readable, Transform } from "node:stream";
import { createSecureContext, rootCertificates, type SecureContext } from "node:tls";
import {
  checkEgressTarget,
  checkResolvedAddresses,
  type EgressRule,
  type ResolvedAddress,
  requestUpstream,
} from "@ironclaw/egress";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { McpBrokerError } from "./errors.js";
import type { McpHttpOptions } from "./types.js";

export interface EgressFetchOptions extends McpHttpOptions {
  /** The URL the change approved, exactly as written there. */
  readonly url: string;
  readonly ipLiteral: boolean;
  /** One response body, then the stream errors. */
  readonly maxResponseBytes: number;
  /** One exchange, from the request to the last byte of its body. */
  readonly exchangeTimeoutMs: number;
  /** Told why an exchange failed, since the SDK keeps only a message. */
  readonly onFailure: (error: McpBrokerError) => void;
}

const DROPPED_HEADERS = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

/**
 * The `fetch` the SDK's Streamable HTTP client uses: every request goes through the egress broker's own
 * checks (egress check.ts for the URL, upstream.ts for a connect whose resolved addresses are checked
 * inside the lookup, so DNS rebinding cannot slip between check and dial), to the one approved URL only,
 * with certificate verification, no redirects followed, and bounded in size and time. GET (the optional
 * server-to-client event stream) is answered 405 here: the broker only asks and hears the answer.
 */
export function egressFetch(options: EgressFetchOptions): FetchLike {
  const approved = new URL(options.url);
  const rule: EgressRule = {
    host: approved.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: approved.port === "" ? 443 : Number(approved.port),
  };
  const allowlist = [rule];
  const secureContext: SecureContext | undefined =
    options.ca === undefined || options.ca.length === 0
      ? undefined
      : createSecureContext({ ca: [...rootCertificates, ...options.ca] });
  const resolve = options.lookup ?? defaultLookup;
  const fail = (error: McpBrokerError): never => {
    options.onFailure(error);
    throw error;
  };

  return async (input, init = {}) => {
    const href = typeof input === "string" ? input : input.href;
    const method = (init.method ?? "GET").toUpperCase();
    if (method === "GET") return new Response(null, { status: 405 });
    if (href !== approved.href)
      return fail(refused(`expected requests to the approved URL ${approved.href} only, found ${href}`));
    const check = checkEgressTarget({ method, target: href, hostHeaders: [approved.host] }, allowlist);
    if (!check.allowed) return fail(refused(check.message));
    if (check.target.kind !== "name" && !options.ipLiteral)
      return fail(refused(`${check.target.host} is an IP literal the change did not approve as one`));
    const body = bodyBytes(init.body);
    const headers = ["Host", check.target.authority];
    for (const [name, value] of new Headers(init.headers).entries()) {
      if (!DROPPED_HEADERS.has(name)) headers.push(name, value);
    }
    headers.push("content-length", String(body.length));
    const exchange = requestUpstream({
      target: check.target,
      method,
      headers,
      body,
      secureContext,
      resolve,
      checkAddresses: (addresses) => checkResolvedAddresses(check.target, addresses, allowlist),
    });
    const timer = setTimeout(() => {
      options.onFailure(
        new McpBrokerError(
          "IC_MCP_TIMEOUT",
          `the server did not answer within ${options.exchangeTimeoutMs} ms`,
        ),
      );
      exchange.abort();
    }, options.exchangeTimeoutMs);
    const abort = () => exchange.abort();
    init.signal?.addEventListener("abort", abort, { once: true });
    const outcome = await exchange.outcome;
    if (!outcome.ok) {
      clearTimeout(timer);
      const code = outcome.reason.startsWith("upstream") || outcome.reason === "dns_error";
      return fail(
        new McpBrokerError(
          code ? "IC_MCP_SERVER_UNAVAILABLE" : "IC_MCP_EGRESS_REFUSED",
          `${outcome.reason}: ${outcome.message}`,
        ),
      );
    }
    const upstream = outcome.response;
    const responseHeaders = new Headers();
    for (let i = 0; i + 1 < upstream.rawHeaders.length; i += 2) {
      const name = upstream.rawHeaders[i] as string;
      // Headers refuses some values a server may send; a broken header is simply not passed on.
      try {
        responseHeaders.append(name, upstream.rawHeaders[i + 1] as string);
      } catch {}
    }
    let seen = 0;
    const limit = options.maxResponseBytes;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        seen += chunk.length;
        if (seen > limit) {
          const error = new McpBrokerError(
            "IC_MCP_RESPONSE_TOO_LARGE",
            `expected a response of at most ${limit} bytes from the server`,
          );
          options.onFailure(error);
          exchange.abort();
          done(error);
          return;
        }
        done(null, chunk);
      },
    });
    upstream.on("error", (error) => bounded.destroy(error));
    upstream.pipe(bounded);
    bounded.on("close", () => {
      clearTimeout(timer);
      init.signal?.removeEventListener("abort", abort);
    });
    const status = upstream.statusCode ?? 502;
    const nullBody = status === 204 || status === 205 || status === 304 || method === "HEAD";
    if (nullBody) bounded.resume();
    return new Response(nullBody ? null : (Readable.toWeb(bounded) as ReadableStream<Uint8Array>), {
      status,
      headers: responseHeaders,
    });
  };
}

function refused(message: string): McpBrokerError {
  return new McpBrokerError("IC_MCP_EGRESS_REFUSED", message);
}

function bodyBytes(body: RequestInit["body"]): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new McpBrokerError("IC_MCP_PROTOCOL", "expected the MCP client to send a string body");
}

async function defaultLookup(hostname: string): Promise<readonly ResolvedAddress[]> {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}
