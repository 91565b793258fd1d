import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import {
  checkBindAddress,
  confirmBoundAddress,
  formatHostPort,
  type Gateway,
  GatewayError,
  gatewayRoutes,
  isGatewayError,
  type JsonValue,
  type Principal,
  type SecurityEvent,
  statusForErrorCode,
} from "@ironclaw/gateway";
import { ASSETS } from "./assets/index.js";
import { VerifyOnce, verifyRunningLog } from "./audit-verify.js";
import { RequestError, readJsonObject, send, sendError, sendJson } from "./http-util.js";
import { LiveViews } from "./live-views.js";
import { csrfMatches, SESSION_COOKIE, SessionStore } from "./sessions.js";
import { consoleView, Verdicts } from "./view.js";

export interface ConsoleOptions {
  readonly host: string;
  readonly port: number;
  readonly dev: boolean;
  readonly interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly gateway: Gateway;
  /** The gateway's state directory, for verifying its log. */
  readonly stateDir: string;
  /** Whether an agent's sandbox runs (from `ironclaw up`'s supervisor); default: not known here. */
  readonly agentStatus?: (agent: string) => string;
  /** The control plane's bearer-token check: the console accepts exactly the tokens the API accepts. */
  readonly authenticate: (authorizationHeader: string | undefined) => Principal | undefined;
  /**
   * The https origin a TLS-terminating proxy on this host (e.g. `tailscale serve`) shows the console
   * under. Then only that Origin is accepted, and the session cookie is also Secure.
   */
  readonly publicOrigin?: string;
  /** Default 8 hours. */
  readonly sessionTtlMs?: number;
  /** Refused sign-ins and requests, for the audit log (the control plane aggregates and budgets them). */
  readonly onSecurityEvent?: (event: SecurityEvent) => void;
  readonly now?: () => number;
}

export interface ConsoleServer {
  /** Where it listens. */
  readonly url: string;
  /** The origin browsers use: the url, or the public https origin behind a TLS proxy. */
  readonly origin: string;
  close(): Promise<void>;
}

/** The only state-changing API calls the console makes: decisions, and messages to an agent. */
const ACTIONS = [
  /^\/api\/v1\/changes\/c[1-9][0-9]{0,9}\/(?:approve|reject)$/,
  /^\/api\/v1\/agents\/[a-z][a-z0-9-]{0,31}\/messages$/,
];
const SIGN_IN_FAILURES_PER_MINUTE = 10;

/**
 * Starts the console on its own listener, refused on the same addresses as the API (mesh, or
 * loopback with dev). Decisions go through the gateway's own routes, so the role check and the digest
 * check are the API's, not a second copy.
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleServer> {
  const interfaces = options.interfaces ?? networkInterfaces();
  checkBindAddress(options.host, { dev: options.dev, interfaces });
  const publicOrigin =
    options.publicOrigin === undefined ? undefined : checkPublicOrigin(options.publicOrigin);
  const now = options.now ?? Date.now;
  const sessions = new SessionStore(options.sessionTtlMs ?? 8 * 3_600_000, now);
  const routes = gatewayRoutes(options.gateway);
  const verdicts = new Verdicts();
  const verifying = new VerifyOnce();
  const failures: number[] = [];
  const live = new LiveViews(options.gateway, now);
  const report = options.onSecurityEvent ?? (() => undefined);
  let origin = "";
  let hostHeader = "";
  const secure = publicOrigin !== undefined;

  const note = (request: IncomingMessage, code: string) =>
    report({
      type: "auth.failed",
      remote: request.socket.remoteAddress ?? "unknown",
      method: request.method ?? "",
      path: (request.url ?? "").slice(0, 256),
      reason: `console: ${code}`,
    });
  const refuse = (response: ServerResponse, request: IncomingMessage, code: string, message: string) => {
    note(request, code);
    sendError(response, 403, code, message);
  };

  /** Same-origin only: the Origin header must be this console's (cross-site requests and old browsers without it are refused). */
  const sameOrigin = (request: IncomingMessage) => request.headers.origin === origin;

  /** A state-changing request from any page but the console's own is refused, and audited as a refused request. */
  const refusedAsCrossOrigin = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (sameOrigin(request)) return false;
    refuse(
      response,
      request,
      "IC_CONSOLE_CROSS_ORIGIN",
      `expected Origin ${origin}, found ${request.headers.origin ?? "none"}`,
    );
    return true;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // DNS rebinding: a page on another name that resolves here still sends its own name as Host.
    // (HTTP/1.0 may omit Host, which node then lets through: that is refused too.)
    const host = request.headers.host;
    if (host === undefined || (host !== hostHeader && host !== publicOrigin?.host)) {
      sendError(
        response,
        421,
        "IC_CONSOLE_HOST",
        `expected Host ${hostHeader}, found ${request.headers.host ?? "none"}`,
      );
      return;
    }
    const path = new URL(request.url ?? "/", origin).pathname;
    const method = request.method ?? "GET";
    const asset = ASSETS.get(path);
    if (asset !== undefined && method === "GET") {
      send(response, 200, asset.type, asset.body);
      return;
    }
    if (path === "/favicon.ico") {
      response.writeHead(204, { "Cache-Control": "max-age=86400" }).end();
      return;
    }
    const session = sessions.fromCookieHeader(request.headers.cookie);
    if (path === "/session" && method === "GET" && session === undefined) {
      // Signed out is an answer here, not an error: the page asks this first, on every load.
      sendJson(response, 200, { principal: null });
      return;
    }
    if (path === "/session" && method === "POST") {
      await signIn(request, response);
      return;
    }
    if (session === undefined) {
      if (method !== "GET") note(request, "IC_CONSOLE_SIGNED_OUT");
      sendError(
        response,
        401,
        "IC_CONSOLE_SIGNED_OUT",
        "not signed in, or the session expired; sign in again",
      );
      return;
    }
    if (method === "GET") {
      if (path === "/session") {
        sendJson(response, 200, {
          principal: session.principal,
          csrf: session.csrf,
          expiresAt: session.expiresAt,
        });
      } else if (path === "/api/view") {
        sendJson(
          response,
          200,
          await consoleView(options.gateway, session.principal, verdicts, options.agentStatus),
        );
      } else if (path === "/api/audit/verify") {
        const report = await verifying.run(() => verifyRunningLog(options.gateway, options.stateDir));
        sendJson(response, 200, { verification: report });
      } else if (path === "/events") {
        live.serve(
          response,
          () => sessions.fromCookieHeader(`${SESSION_COOKIE}=${session.id}`) !== undefined,
        );
      } else {
        sendError(response, 404, "IC_CONSOLE_NOT_FOUND", `no page ${path}`);
      }
      return;
    }
    if (method !== "POST") {
      sendError(response, 405, "IC_CONSOLE_METHOD", `expected GET or POST, found ${method}`);
      return;
    }
    if (refusedAsCrossOrigin(request, response)) return;
    const csrf = request.headers["x-csrf-token"];
    if (!csrfMatches(session, typeof csrf === "string" ? csrf : undefined)) {
      refuse(
        response,
        request,
        "IC_CONSOLE_CSRF",
        "expected this session's CSRF token in X-CSRF-Token; reload the page",
      );
      return;
    }
    if (path === "/session/sign-out") {
      sessions.delete(session);
      sendJson(response, 200, { signedOut: true }, { "Set-Cookie": clearCookie(secure) });
      return;
    }
    if (!ACTIONS.some((action) => action.test(path))) {
      sendError(response, 404, "IC_CONSOLE_NOT_FOUND", `no action ${path}`);
      return;
    }
    const body = await readJsonObject(request);
    const answer = await routes({
      method: "POST",
      path: path.slice("/api".length),
      query: new URLSearchParams(),
      principal: session.principal,
      body: body as JsonValue,
    });
    sendJson(response, answer.status, answer.body);
  };

  const signIn = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (refusedAsCrossOrigin(request, response)) return;
    const minuteAgo = now() - 60_000;
    while (failures.length > 0 && (failures[0] as number) < minuteAgo) failures.shift();
    if (failures.length >= SIGN_IN_FAILURES_PER_MINUTE) {
      sendError(
        response,
        429,
        "IC_CONSOLE_RATE_LIMITED",
        "too many failed sign-ins in the last minute; wait and try again",
      );
      return;
    }
    const body = await readJsonObject(request);
    const token = typeof body.token === "string" && body.token.length <= 256 ? body.token : "";
    const principal = token === "" ? undefined : options.authenticate(`Bearer ${token}`);
    if (principal === undefined || principal.role === "agent") {
      failures.push(now());
      note(
        request,
        principal === undefined ? "IC_CONSOLE_SIGN_IN unknown token" : "IC_CONSOLE_SIGN_IN agent token",
      );
      sendError(
        response,
        401,
        "IC_CONSOLE_SIGN_IN",
        "expected the operator or viewer token from <state>/tokens; that token is not one",
      );
      return;
    }
    const session = sessions.create(principal);
    sendJson(
      response,
      200,
      { principal: session.principal, csrf: session.csrf, expiresAt: session.expiresAt },
      { "Set-Cookie": sessionCookie(session.id, sessions.ttlMs, secure) },
    );
  };

  const server = createServer(
    { requireHostHeader: true, headersTimeout: 10_000, requestTimeout: 30_000 },
    (request, response) => {
      handle(request, response).catch((error: unknown) => {
        if (response.headersSent) {
          response.destroy();
        } else if (error instanceof RequestError) {
          sendError(response, error.status, error.code, error.message);
        } else if (isGatewayError(error)) {
          sendError(response, statusForErrorCode(error.code), error.code, error.message);
        } else {
          process.stderr.write(
            `ironclaw console: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
          );
          sendError(response, 500, "IC_CONSOLE_INTERNAL", "internal error; see the console's stderr");
        }
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { host: options.host, port: options.port, exclusive: true, ipv6Only: isIP(options.host) === 6 },
      () => {
        server.off("error", reject);
        resolve();
      },
    );
  });
  let address: ReturnType<typeof confirmBoundAddress>;
  try {
    address = confirmBoundAddress({ host: options.host, port: options.port }, server.address());
  } catch (error) {
    await closeServer(server, live);
    throw error;
  }
  hostHeader = formatHostPort(address);
  origin = publicOrigin?.origin ?? `http://${hostHeader}`;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostHeader}`,
    origin,
    close: () => {
      closing ??= closeServer(server, live);
      return closing;
    },
  };
}

function sessionCookie(id: string, ttlMs: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(ttlMs / 1000)}${secure ? "; Secure" : ""}`;
}

function clearCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}

/** `https://name[:port]` and nothing else: an http origin would send the session cookie in the clear. */
function checkPublicOrigin(text: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== "https:" || url.origin !== text.replace(/\/$/, "")) {
    throw new GatewayError(
      "IC_API_BIND_REFUSED",
      `expected the console's public origin as https://name or https://name:port (no path), found ${JSON.stringify(text)}`,
    );
  }
  return url;
}

function closeServer(server: Server, live: LiveViews): Promise<void> {
  live.endAll();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
