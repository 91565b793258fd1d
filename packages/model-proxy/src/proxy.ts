import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { createSecureContext, rootCertificates } from "node:tls";
import { isEgressError, listenOnSocketFile } from "@ironclaw/egress";
import { type CallPlan, type ModelApproval, planCall, spentOnFailure } from "./budget.js";
import { isModelError, ModelError } from "./errors.js";
import { type ModelCallEvent, type UsageLedger, utcDay } from "./ledger.js";
import {
  type CompleteRequest,
  type CompleteResponse,
  estimateInputTokens,
  NEUTRAL_LIMITS,
  parseCompleteRequest,
} from "./neutral.js";
import type { ModelProviders } from "./provider.js";
import { type CountedRefusals, RefusalThrottle } from "./refusal-throttle.js";
import { readRequestBody } from "./request-body.js";

export interface ModelProxyOptions {
  /** Host path of the socket the sandbox sees as /run/ironclaw/model.sock. */
  readonly socketPath: string;
  readonly agent: string;
  /** Read at every call: the registry's approved model for this agent, if any. */
  readonly approval: () => ModelApproval | null | undefined;
  readonly providers: ModelProviders;
  readonly ledger: UsageLedger;
  /** Called once per call, success or failure, before the agent is answered. */
  readonly audit: (event: ModelCallEvent) => void;
  /** Extra trusted roots for https providers (tests); Node's roots are always trusted too. */
  readonly ca?: readonly string[];
  readonly limits?: Partial<ProxyLimits>;
  /** The clock the budget's UTC day is read from. */
  readonly now?: () => Date;
}

export interface ProxyLimits {
  readonly requestBodyBytes: number;
  readonly requestTimeoutMs: number;
  /** Calls waiting behind the one under way. */
  readonly queue: number;
  /** Refusals that spent nothing, written one by one per window; the rest are counted. */
  readonly refusalsPerWindow: number;
  readonly refusalWindowMs: number;
}

export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  requestBodyBytes: NEUTRAL_LIMITS.bodyBytes,
  requestTimeoutMs: 10_000,
  queue: 4,
  refusalsPerWindow: 32,
  refusalWindowMs: 60_000,
};

export interface ModelProxy {
  readonly socketPath: string;
  close(): Promise<void>;
}

interface Outcome {
  readonly status: number;
  readonly body: CompleteResponse | { readonly error: { readonly code: string; readonly message: string } };
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly code?: string;
}

/**
 * Starts the model proxy of one agent on a unix socket (mode 0600). One route, POST /v1/complete; one
 * call at a time; the provider, model, output cap and budget come from the approval read at each call.
 */
export async function startModelProxy(options: ModelProxyOptions): Promise<ModelProxy> {
  if (typeof options.agent !== "string" || !/^[a-z][a-z0-9-]{0,31}$/.test(options.agent))
    throw new ModelError(
      "IC_MODEL_OPTIONS_INVALID",
      `expected an agent name, found ${JSON.stringify(options.agent)}`,
    );
  const limits = { ...DEFAULT_PROXY_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new ModelError(
        "IC_MODEL_OPTIONS_INVALID",
        `expected limits.${name} to be a positive integer, found ${value}`,
      );
  }
  // Built once: parsing every root for each call costs tens of milliseconds.
  const secureContext =
    options.ca === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, ...options.ca] });
  const now = options.now ?? (() => new Date());
  let unavailable: string | undefined;
  let waiting = 0;
  let chain: Promise<unknown> = Promise.resolve();

  const throttle = new RefusalThrottle(limits.refusalsPerWindow, limits.refusalWindowMs);
  const writeCounted = (counted: CountedRefusals | undefined): void => {
    if (counted === undefined) return;
    options.audit({
      type: "model.call",
      agent: options.agent,
      provider: "",
      model: "",
      inputTokens: 0,
      outputTokens: 0,
      durationMs: 0,
      status: 429,
      code: "IC_MODEL_REFUSALS_COUNTED",
      count: counted.count,
      from: counted.from.toISOString(),
      to: counted.to.toISOString(),
    });
  };

  const audit = (outcome: Outcome, started: number): boolean => {
    try {
      writeCounted(throttle.due());
      // An agent's own refused request that spent nothing: bounded, so it cannot grow the log at will.
      const free = outcome.status < 500 && outcome.inputTokens + outcome.outputTokens === 0;
      if (free && outcome.code !== undefined && !throttle.admit()) return true;
      options.audit({
        type: "model.call",
        agent: options.agent,
        provider: outcome.provider,
        model: outcome.model,
        inputTokens: outcome.inputTokens,
        outputTokens: outcome.outputTokens,
        durationMs: Math.round(performance.now() - started),
        status: outcome.status,
        ...(outcome.code === undefined ? {} : { code: outcome.code }),
      });
      return true;
    } catch (error) {
      // Fail closed: a call that cannot be audited is not answered, and none is from now on.
      unavailable ??= "the model proxy cannot write its audit log, so it refuses every call";
      process.stderr.write(`ironclaw model-proxy: audit failed, refusing all calls: ${String(error)}\n`);
      return false;
    }
  };

  const call = async (request: CompleteRequest): Promise<Outcome> => {
    // A call that waited while the proxy closed (a revoked model) or lost its audit is not started.
    if (unavailable !== undefined)
      return refusal(new ModelError("IC_MODEL_UNAVAILABLE", unavailable), undefined);
    let approval: ModelApproval | null | undefined;
    try {
      approval = options.approval();
    } catch {
      return refusal(
        new ModelError("IC_MODEL_UNAVAILABLE", "the registry could not be read; try again"),
        undefined,
      );
    }
    const day = utcDay(now());
    const reservedInput = estimateInputTokens(request);
    let plan: CallPlan;
    try {
      plan = planCall({
        approval,
        providers: options.providers,
        used: options.ledger.used(options.agent, day),
        reservedInput,
        requestedMaxOutputTokens: request.maxOutputTokens,
      });
    } catch (error) {
      return refusal(error, approval);
    }
    try {
      const completion = await plan.provider.complete(
        {
          model: plan.approval.model,
          system: request.system,
          messages: request.messages,
          tools: request.tools,
          maxOutputTokens: plan.maxOutputTokens,
        },
        { secureContext },
      );
      const { inputTokens, outputTokens } = completion.usage;
      options.ledger.add(options.agent, day, inputTokens + outputTokens);
      return {
        status: 200,
        body: { ...completion, provider: plan.approval.provider, model: plan.approval.model },
        provider: plan.approval.provider,
        model: plan.approval.model,
        inputTokens,
        outputTokens,
      };
    } catch (error) {
      // Counted and audited with its tokens, so a restart's ledger (seeded from the audit) has it too.
      const spent = spentOnFailure(error, { inputTokens: reservedInput, outputTokens: plan.maxOutputTokens });
      if (spent === undefined) return refusal(error, plan.approval);
      options.ledger.add(options.agent, day, spent.inputTokens + spent.outputTokens);
      return { ...refusal(error, plan.approval), ...spent };
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = performance.now();
    let outcome: Outcome;
    try {
      const parsed = await readCall(request, limits);
      if (unavailable !== undefined) throw new ModelError("IC_MODEL_UNAVAILABLE", unavailable);
      if (waiting >= limits.queue + 1)
        throw new ModelError("IC_MODEL_BUSY", `expected one call at a time; ${waiting} are already waiting`);
      waiting += 1;
      const turn = chain.then(() => call(parsed));
      chain = turn.catch(() => {});
      try {
        outcome = await turn;
      } finally {
        waiting -= 1;
      }
    } catch (error) {
      outcome = refusal(error, safeApproval(options.approval));
    }
    if (!audit(outcome, started))
      outcome = refusal(new ModelError("IC_MODEL_UNAVAILABLE", unavailable ?? "audit failed"), undefined);
    respond(response, outcome);
  };

  const server = createServer(
    {
      maxHeaderSize: 16 * 1024,
      headersTimeout: Math.min(10_000, limits.requestTimeoutMs),
      requestTimeout: 0,
      keepAliveTimeout: 5_000,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
    },
    (request, response) => void handle(request, response),
  );
  server.maxHeadersCount = 64;
  // One agent, one call at a time: a few connections are plenty, thousands are an attack.
  server.maxConnections = 32;
  const file = await listenOnSocketFile(server, options.socketPath, 0o600).catch((error: unknown) => {
    // The egress broker's steps (0600 before it appears, never replacing a file), in this package's terms.
    if (isEgressError(error) && error.code === "IC_EGRESS_LISTEN_FAILED")
      throw new ModelError("IC_MODEL_LISTEN_FAILED", error.message, { cause: error });
    throw error;
  });
  // A window's count is written when the window ends, even if no later request comes to notice it.
  const flush = setInterval(() => {
    try {
      writeCounted(throttle.due());
    } catch {
      unavailable ??= "the model proxy cannot write its audit log, so it refuses every call";
    }
  }, limits.refusalWindowMs);
  flush.unref();
  let closing: Promise<void> | undefined;
  return {
    socketPath: file.path,
    close: () => {
      unavailable ??= "the model proxy is shutting down";
      clearInterval(flush);
      closing ??= closeServer(server, chain).then(() => {
        try {
          writeCounted(throttle.roll());
        } catch {
          // Closing: nothing is answered any more, and the audit's failure was already reported.
        }
        return file.remove();
      });
      return closing;
    },
  };
}

async function readCall(request: IncomingMessage, limits: ProxyLimits): Promise<CompleteRequest> {
  const path = (request.url ?? "").split("?")[0];
  if (path !== "/v1/complete")
    throw new ModelError("IC_MODEL_NOT_FOUND", `expected POST /v1/complete, found ${request.method} ${path}`);
  if (request.method !== "POST")
    throw new ModelError(
      "IC_MODEL_METHOD_NOT_ALLOWED",
      `expected POST /v1/complete, found ${request.method}`,
    );
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new ModelError(
      "IC_MODEL_UNSUPPORTED_MEDIA_TYPE",
      `expected content-type application/json, found ${type || "none"}`,
    );
  const body = await readRequestBody(request, limits.requestBodyBytes, limits.requestTimeoutMs);
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new ModelError("IC_MODEL_BAD_REQUEST", "expected a JSON body");
  }
  const parsed = parseCompleteRequest(value);
  if (!parsed.ok) throw new ModelError("IC_MODEL_BAD_REQUEST", parsed.message);
  return parsed.request;
}

function refusal(error: unknown, approval: ModelApproval | null | undefined): Outcome {
  // Anything not a ModelError is a bug or a provider surprise: its text is not passed on.
  const known = isModelError(error)
    ? error
    : new ModelError("IC_MODEL_PROVIDER_ERROR", "the provider call failed unexpectedly");
  if (!isModelError(error))
    process.stderr.write(`ironclaw model-proxy: unexpected failure: ${String(error)}\n`);
  return {
    status: known.status,
    body: { error: { code: known.code, message: known.message } },
    provider: approval?.provider ?? "",
    model: approval?.model ?? "",
    inputTokens: 0,
    outputTokens: 0,
    code: known.code,
  };
}

function safeApproval(read: () => ModelApproval | null | undefined): ModelApproval | undefined {
  try {
    const approval = read();
    return typeof approval?.provider === "string" && typeof approval.model === "string"
      ? approval
      : undefined;
  } catch {
    return undefined;
  }
}

/** Refusals that leave a body half read: the connection is closed after them, not drained. */
const CLOSING_CODES = new Set(["IC_MODEL_REQUEST_TOO_LARGE", "IC_MODEL_REQUEST_TIMEOUT"]);

function respond(response: ServerResponse, outcome: Outcome): void {
  const body = JSON.stringify(outcome.body);
  if (response.headersSent || response.destroyed) return;
  const closing = outcome.code !== undefined && CLOSING_CODES.has(outcome.code);
  response.writeHead(outcome.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...(closing ? { connection: "close" } : {}),
  });
  response.end(body, () => {
    if (closing) response.socket?.destroy();
  });
}

async function closeServer(server: Server, chain: Promise<unknown>): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  // A call under way finishes (its tokens are counted), bounded by its provider's deadline.
  await chain;
  server.closeAllConnections();
  await closed;
}
