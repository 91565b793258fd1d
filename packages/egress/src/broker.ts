import { promises as dns } from "node:dns";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { createSecureContext, rootCertificates } from "node:tls";
import { checkEgressTarget } from "./check.js";
import { EgressError } from "./errors.js";
import { type ExchangeContext, handleExchange } from "./exchange.js";
import { type Limits, resolveLimits } from "./limits.js";
import { REFUSALS, type RefusalReason } from "./reasons.js";
import { rawRefusal } from "./respond.js";
import { listenOnSocketFile } from "./socket-file.js";
import type { EgressAuditEvent, EgressBroker, EgressBrokerOptions, ResolvedAddress } from "./types.js";

type Report = (event: Omit<EgressAuditEvent, "type" | "agent">) => void;

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADERS = 100;

/**
 * Starts the broker for one agent on a unix socket. The agent is assumed hostile: everything it sends
 * is checked, nothing is tunnelled, and every request ends in exactly one audit event.
 */
export async function startEgressBroker(options: EgressBrokerOptions): Promise<EgressBroker> {
  const mode = checkOptions(options);
  const limits = resolveLimits(options.limits);
  let unavailable: string | undefined;
  let inFlight = 0;
  const report: Report = (fields) => {
    try {
      options.audit({ type: "egress.request", agent: options.agent, ...fields });
    } catch (error) {
      // Fail closed: a request that cannot be audited must not be made, so none is from now on.
      unavailable ??= "the broker cannot write its audit log, so it refuses every request";
      process.stderr.write(`ironclaw egress: audit failed, refusing all requests: ${String(error)}\n`);
    }
  };
  const context: ExchangeContext = {
    allowlist: options.allowlist,
    resolve: options.lookup ?? defaultLookup,
    // Extra roots add to Node's, as `ca` alone would replace them. Built once: parsing every root
    // for each request cost about 100 ms.
    secureContext:
      options.ca === undefined
        ? undefined
        : createSecureContext({ ca: [...rootCertificates, ...options.ca] }),
    limits,
    unavailable: () => unavailable,
    acquire: () => {
      if (inFlight >= limits.concurrent) return undefined;
      inFlight += 1;
      let released = false;
      return () => {
        if (!released) inFlight -= 1;
        released = true;
      };
    },
    report,
  };
  const server = createBrokerServer(context, limits, report);
  const file = await listenOnSocketFile(server, options.socketPath, mode);
  let closing: Promise<void> | undefined;
  return {
    socketPath: file.path,
    close: () => {
      unavailable ??= "the broker is shutting down";
      closing ??= closeServer(server, limits.timeoutMs).then(() => file.remove());
      return closing;
    },
  };
}

function createBrokerServer(context: ExchangeContext, limits: Limits, report: Report): Server {
  // Exchanges under way per socket (pipelining allows several): they report whatever happens to it.
  const busy = new WeakMap<Duplex, number>();
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    const socket = request.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    response.once("close", () => busy.set(socket, (busy.get(socket) ?? 1) - 1));
    void handleExchange(context, request, response);
  };
  const headersTimeout = Math.min(10_000, limits.timeoutMs);
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      // A backstop only: each exchange's own timer starts after the headers and fires first.
      requestTimeout: headersTimeout + limits.timeoutMs + 1_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(headersTimeout / 4))),
      // Missing Host is the broker's to refuse and audit, not node's to answer silently.
      requireHostHeader: false,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
    },
    listener,
  );
  server.maxHeadersCount = MAX_HEADERS;
  server.maxConnections = Math.max(32, limits.concurrent * 4);
  // Without these node answers 100 Continue before any check, or 417 without an audit event.
  server.on("checkContinue", listener);
  server.on("checkExpectation", listener);
  server.on("connect", (request: IncomingMessage, socket: Duplex) => refuseConnect(request, socket, report));
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if ((busy.get(socket) ?? 0) > 0) socket.destroy();
    else answerClientError(error, socket, report);
  });
  return server;
}

/** CONNECT would open a tunnel the broker cannot see into: always refused. */
function refuseConnect(request: IncomingMessage, socket: Duplex, report: Report): void {
  const started = performance.now();
  const check = checkEgressTarget({ method: "CONNECT", target: request.url ?? "", hostHeaders: [] }, []);
  const [host, port, message] = check.allowed ? ["", null, ""] : [check.host, check.port, check.message];
  socket.end(rawRefusal("connect_refused", message));
  socket.on("error", () => {});
  report(rawEvent("CONNECT", "connect_refused", started, host, port));
}

/** Requests node could not parse, or whose headers came too slowly: still answered and audited. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, report: Report): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const reason: RefusalReason = error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "timeout" : "malformed_request";
  const message =
    reason === "timeout"
      ? "expected the request headers sooner"
      : `expected a well-formed HTTP/1.1 request, found a parse error (${error.code ?? "unknown"})`;
  socket.end(rawRefusal(reason, message), () => socket.destroy());
  report(rawEvent("", reason, performance.now(), "", null));
}

function rawEvent(method: string, reason: RefusalReason, started: number, host: string, port: number | null) {
  return {
    method,
    host,
    port,
    path: "",
    status: REFUSALS[reason].status,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: Math.round(performance.now() - started),
    decision: "denied" as const,
    reason,
  };
}

function checkOptions(options: EgressBrokerOptions): number {
  const invalid = (message: string) => new EgressError("IC_EGRESS_OPTIONS_INVALID", message);
  if (typeof options.socketPath !== "string" || options.socketPath === "") {
    throw invalid("expected socketPath to be a non-empty path");
  }
  if (typeof options.agent !== "string" || options.agent === "")
    throw invalid("expected agent to be a non-empty id");
  if (typeof options.allowlist !== "function" || typeof options.audit !== "function") {
    throw invalid("expected allowlist and audit to be functions");
  }
  const mode = options.socketMode ?? 0o600;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw invalid(`expected socketMode to be a file mode from 0 to 0o777, found ${mode}`);
  }
  return mode;
}

async function defaultLookup(hostname: string): Promise<readonly ResolvedAddress[]> {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((done) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      done();
    });
    server.closeIdleConnections();
  });
}
