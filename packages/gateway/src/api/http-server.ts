import { createServer, type Server } from "node:http";
import { isIP, type Socket } from "node:net";
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import { GatewayError } from "../errors.js";
import type { Principal } from "../principal.js";
import { checkBindAddress, confirmBoundAddress, formatHostPort, type ListenAddress } from "./bind.js";
import { createRequestListener, type SecurityEvent } from "./handle-request.js";
import { FailedAuthLimiter } from "./rate-limit.js";
import { errorBody, rawErrorResponse, sendJson } from "./respond.js";
import type { ApiHandler } from "./types.js";

export interface ApiServerLimits {
  /** Largest request body accepted (default 64 KiB). */
  readonly bodyBytes?: number;
  /** Time to receive the request headers (default 10 s): what stops a slow-loris client. */
  readonly headersTimeoutMs?: number;
  /** Time to receive the whole request (default 30 s); at least headersTimeoutMs. */
  readonly requestTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open (default 5 s). */
  readonly keepAliveTimeoutMs?: number;
  readonly failedAuthPerWindow?: number;
  readonly failedAuthWindowMs?: number;
}

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  readonly dev: boolean;
  /** Default: os.networkInterfaces(). */
  readonly interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly authenticate: (authorizationHeader: string | undefined) => Principal | undefined;
  readonly handler: ApiHandler;
  /** /readyz answers 200 {"ready":true} or 503 {"ready":false}. */
  readonly ready: () => boolean;
  /** The gateway writes these to its audit log. */
  readonly onSecurityEvent: (event: SecurityEvent) => void;
  /** Errors that are not GatewayErrors, which clients see only as IC_API_INTERNAL (default: stderr). */
  readonly onInternalError?: (error: unknown) => void;
  readonly limits?: ApiServerLimits;
  readonly now?: () => number;
}

export interface ApiServer {
  readonly url: string;
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export type { SecurityEvent } from "./handle-request.js";

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADERS = 100;
const MAX_REQUESTS_PER_SOCKET = 100;
/** After close(), how long requests in flight may take before their connections are cut. */
const CLOSE_GRACE_MS = 5_000;

/**
 * Starts the control-plane API. The address is checked before anything listens, and the bound
 * address is checked again after, so the API never ends up reachable wider than asked.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  checkBindAddress(options.host, { dev: options.dev, interfaces: options.interfaces ?? networkInterfaces() });
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new GatewayError("IC_API_BIND_REFUSED", `expected a port from 0 to 65535, found ${options.port}`);
  }
  const limits = resolveLimits(options.limits ?? {});
  const onInternalError = options.onInternalError ?? reportToStderr;
  const limiter = new FailedAuthLimiter({
    failuresPerWindow: limits.failedAuthPerWindow,
    windowMs: limits.failedAuthWindowMs,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const listener = createRequestListener({
    authenticate: options.authenticate,
    handler: options.handler,
    ready: options.ready,
    onSecurityEvent: options.onSecurityEvent,
    onInternalError,
    limiter,
    bodyBytes: limits.bodyBytes,
  });
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Timeouts are only noticed when node checks (default every 30 s); check often enough to matter.
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
      requireHostHeader: true,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
    },
    listener,
  );
  server.maxHeadersCount = MAX_HEADERS;
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) =>
    answerClientError(error, socket, limits),
  );
  // Without this, node answers `100 Continue` itself, before the request is even authenticated.
  server.on("checkContinue", listener);
  server.on("checkExpectation", (_request, response) => {
    const message = 'expected no Expect header other than "100-continue"; send the request without it';
    sendJson(response, 417, errorBody("IC_API_BAD_REQUEST", message), { Connection: "close" });
  });

  await listen(server, options.host, options.port);
  server.on("error", onInternalError);
  let address: ListenAddress;
  try {
    address = confirmBoundAddress({ host: options.host, port: options.port }, server.address());
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatHostPort(address)}`,
    address,
    close: () => {
      closing ??= closeServer(server);
      return closing;
    },
  };
}

type Limits = Required<ApiServerLimits>;

function resolveLimits(limits: ApiServerLimits): Limits {
  const resolved: Limits = {
    bodyBytes: limits.bodyBytes ?? 64 * 1024,
    headersTimeoutMs: limits.headersTimeoutMs ?? 10_000,
    requestTimeoutMs: limits.requestTimeoutMs ?? 30_000,
    keepAliveTimeoutMs: limits.keepAliveTimeoutMs ?? 5_000,
    failedAuthPerWindow: limits.failedAuthPerWindow ?? 10,
    failedAuthWindowMs: limits.failedAuthWindowMs ?? 60_000,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`expected limits.${name} to be a positive integer, found ${value}`);
    }
  }
  // Node refuses this combination itself, with a less helpful message.
  if (resolved.headersTimeoutMs > resolved.requestTimeoutMs) {
    throw new RangeError(
      `expected limits.headersTimeoutMs (${resolved.headersTimeoutMs}) to be at most limits.requestTimeoutMs (${resolved.requestTimeoutMs})`,
    );
  }
  return resolved;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (cause: NodeJS.ErrnoException): void => {
      const hint =
        cause.code === "EADDRINUSE"
          ? "another process listens there; stop it or choose another port"
          : cause.code === "EADDRNOTAVAIL"
            ? "the address is not assigned to this host; check `tailscale ip`"
            : "check the address and port";
      reject(
        new GatewayError(
          // Another process on the port is the environment, not a wrong address: exit 3, not 2.
          cause.code === "EADDRINUSE" ? "IC_API_ADDRESS_IN_USE" : "IC_API_BIND_REFUSED",
          `cannot listen on ${formatHostPort({ host, port })}: ${cause.message}; ${hint}`,
          { cause },
        ),
      );
    };
    server.once("error", onError);
    server.listen({ host, port, exclusive: true, ipv6Only: isIP(host) === 6 }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/**
 * Node's own answers to unparsable or timed-out requests are bare text; these are JSON with the
 * security headers like every other response. Only a socket that has written nothing yet is
 * answered — anything else would interleave with a response already under way.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, limits: Limits): void {
  if (error.code === "ECONNRESET" || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const [status, message] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [
          408,
          `expected the request headers within ${limits.headersTimeoutMs} ms and the whole request within ${limits.requestTimeoutMs} ms, found it incomplete; send requests promptly`,
        ]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [
            431,
            `expected request headers of at most ${MAX_HEADER_BYTES} bytes, found more; send fewer or smaller headers`,
          ]
        : [
            400,
            `expected a well-formed HTTP/1.1 request, found a parse error (${error.code ?? error.message})`,
          ];
  socket.end(rawErrorResponse(status, "IC_API_BAD_REQUEST", message), () => socket.destroy());
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    force.unref();
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

function reportToStderr(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`ironclaw gateway: internal error in the API: ${text}\n`);
}
