import type { IncomingMessage, ServerResponse } from "node:http";
import { GatewayError } from "../errors.js";
import type { Principal } from "../principal.js";
import { parseBearer } from "./bearer.js";
import { statusForErrorCode } from "./error-status.js";
import { remoteAddressKey } from "./ip-address.js";
import type { FailedAuthLimiter } from "./rate-limit.js";
import { readJsonBody } from "./read-body.js";
import { parseRequestTarget } from "./request-target.js";
import { errorBody, sendJson } from "./respond.js";
import type { ApiHandler } from "./types.js";

/** What the gateway writes to its audit log about callers it turned away. Never holds a token. */
export interface SecurityEvent {
  readonly type: "auth.failed" | "auth.rate_limited";
  readonly remote: string;
  readonly method: string;
  readonly path: string;
  readonly reason: string;
}

export interface RequestPipelineOptions {
  readonly authenticate: (authorizationHeader: string | undefined) => Principal | undefined;
  readonly handler: ApiHandler;
  readonly ready: () => boolean;
  readonly onSecurityEvent: (event: SecurityEvent) => void;
  readonly onInternalError: (error: unknown) => void;
  readonly limiter: FailedAuthLimiter;
  readonly bodyBytes: number;
}

/**
 * Methods the authenticated API serves. HEAD, OPTIONS, TRACE and the rest get 405: the API has no
 * CORS (browsers must not call it, so no preflight is ever answered), TRACE would echo the token
 * back, and the CLI has no use for HEAD.
 */
export const API_METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const HEALTH_METHODS: readonly string[] = ["GET", "HEAD"];
const CHALLENGE = 'Bearer realm="ironclaw"';

export function createRequestListener(
  options: RequestPipelineOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.onInternalError(error);
      response.destroy();
    });
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: RequestPipelineOptions,
): Promise<void> {
  const method = request.method ?? "";
  const remote = remoteAddressKey(request.socket.remoteAddress);
  try {
    const { path, query } = parseRequestTarget(request.url ?? "");
    if (path === "/healthz" || path === "/readyz") return answerHealth(request, response, path, options);

    const limit = options.limiter.check(remote);
    if (limit.limited) {
      if (limit.firstRefusal) {
        const reason = `too many failed authentications; refusing this address for ${limit.retryAfterSeconds} s`;
        options.onSecurityEvent({ type: "auth.rate_limited", remote, method, path, reason });
      }
      const error = new GatewayError(
        "IC_API_RATE_LIMITED",
        `too many failed authentications from ${remote}; wait ${limit.retryAfterSeconds} s, then retry with a valid token`,
      );
      return fail(request, response, error, { "Retry-After": String(limit.retryAfterSeconds) });
    }

    const authentication = authenticate(request, options.authenticate);
    if (!authentication.ok) {
      options.limiter.recordFailure(remote);
      options.onSecurityEvent({ type: "auth.failed", remote, method, path, reason: authentication.reason });
      const error = new GatewayError(
        "IC_API_UNAUTHENTICATED",
        `expected "Authorization: Bearer <token>" with a token of this gateway, found ${authentication.reason}; use a token from the gateway's tokens directory`,
      );
      return fail(request, response, error, { "WWW-Authenticate": authentication.challenge });
    }

    if (!API_METHODS.includes(method)) {
      const error = new GatewayError(
        "IC_API_METHOD_NOT_ALLOWED",
        `expected one of ${API_METHODS.join(", ")}, found ${method}; the API serves no other method`,
      );
      return fail(request, response, error, { Allow: API_METHODS.join(", ") });
    }

    // With `Expect: 100-continue` the client holds the body back until told; tell it only now, after
    // authentication and the checks on headers.
    const wantsContinue = request.headers.expect?.toLowerCase() === "100-continue";
    const body = await readJsonBody(request, options.bodyBytes, () => {
      if (wantsContinue) response.writeContinue();
    });
    const result = await options.handler({ method, path, query, principal: authentication.principal, body });
    if (!Number.isInteger(result.status) || result.status < 200 || result.status > 599) {
      throw new Error(`the API handler returned HTTP status ${String(result.status)}, expected 200–599`);
    }
    sendJson(response, result.status, result.body);
  } catch (error) {
    if (error instanceof GatewayError) return fail(request, response, error);
    options.onInternalError(error);
    const internal = new GatewayError(
      "IC_API_INTERNAL",
      "the gateway failed while handling this request; the details are in its log",
    );
    fail(request, response, internal);
  }
}

type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: string; readonly challenge: string };

/** The principal, or why there is none; the reason is for logs and never quotes the header. */
function authenticate(
  request: IncomingMessage,
  authenticateHeader: RequestPipelineOptions["authenticate"],
): Authentication {
  // Node keeps only the first of repeated Authorization headers; repeating it is refused, not guessed at.
  const headers = request.headersDistinct.authorization ?? [];
  if (headers.length > 1) {
    return {
      ok: false,
      reason: "more than one Authorization header",
      challenge: `${CHALLENGE}, error="invalid_request"`,
    };
  }
  const header = headers[0];
  const principal = authenticateHeader(header);
  if (principal !== undefined) return { ok: true, principal };
  const credentials = parseBearer(header);
  if (credentials.kind === "missing")
    return { ok: false, reason: "no Authorization header", challenge: CHALLENGE };
  if (credentials.kind === "malformed") {
    return { ok: false, reason: credentials.reason, challenge: `${CHALLENGE}, error="invalid_request"` };
  }
  return {
    ok: false,
    reason: "a bearer token this gateway did not issue",
    challenge: `${CHALLENGE}, error="invalid_token"`,
  };
}

function answerHealth(
  request: IncomingMessage,
  response: ServerResponse,
  path: "/healthz" | "/readyz",
  options: RequestPipelineOptions,
): void {
  const method = request.method ?? "";
  if (!HEALTH_METHODS.includes(method)) {
    const error = new GatewayError(
      "IC_API_METHOD_NOT_ALLOWED",
      `expected GET or HEAD on ${path}, found ${method}`,
    );
    fail(request, response, error, { Allow: HEALTH_METHODS.join(", ") });
    return;
  }
  if (path === "/healthz") {
    sendJson(response, 200, { ok: true });
    return;
  }
  let ready = false;
  try {
    ready = options.ready();
  } catch (error) {
    options.onInternalError(error); // A readiness probe that throws means not ready.
  }
  sendJson(response, ready ? 200 : 503, { ready });
}

function fail(
  request: IncomingMessage,
  response: ServerResponse,
  error: GatewayError,
  headers: Readonly<Record<string, string>> = {},
): void {
  // An unread body is not drained for a refused request: closing costs less than reading it.
  const close: Record<string, string> = request.complete ? {} : { Connection: "close" };
  sendJson(response, statusForErrorCode(error.code), errorBody(error.code, error.message), {
    ...headers,
    ...close,
  });
}
