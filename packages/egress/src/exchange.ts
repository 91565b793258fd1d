import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { SecureContext } from "node:tls";
import { checkEgressTarget, checkRedirect, checkResolvedAddresses, type EgressTarget } from "./check.js";
import { forwardRequestHeaders, forwardResponseHeaders, headerValues } from "./headers.js";
import type { Limits } from "./limits.js";
import { decisionOf, type EgressReason, type RefusalReason } from "./reasons.js";
import { sendRefusal } from "./respond.js";
import type { EgressAuditEvent, EgressRule, ResolvedAddress } from "./types.js";
import { requestUpstream, type UpstreamExchange } from "./upstream.js";

export interface ExchangeContext {
  readonly allowlist: () => readonly EgressRule[];
  readonly resolve: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  readonly secureContext: SecureContext | undefined;
  readonly limits: Limits;
  /** Why every request is refused now (audit sink broken, broker closing), or undefined. */
  readonly unavailable: () => string | undefined;
  /** Takes one of `limits.concurrent` slots, or returns undefined when all are taken. */
  readonly acquire: () => (() => void) | undefined;
  readonly report: (event: Omit<EgressAuditEvent, "type" | "agent">) => void;
}

/** One request from the agent, from its head to its audit event. Settles without throwing. */
export function handleExchange(
  context: ExchangeContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const exchange = new Exchange(context, request, response);
  return exchange.run().catch((error: unknown) => exchange.crash(error));
}

class Exchange {
  private readonly started = performance.now();
  private host = "";
  private port: number | null = null;
  private path = "";
  private status: number | null = null;
  private bytesIn = 0;
  private done = false;
  private release: (() => void) | undefined;
  private upstream: UpstreamExchange | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly context: ExchangeContext,
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
  ) {
    this.timer = setTimeout(() => this.onTimeout(), context.limits.timeoutMs);
    response.once("close", () => {
      this.upstream?.abort();
      this.finish("agent_closed");
    });
  }

  async run(): Promise<void> {
    const unavailable = this.context.unavailable();
    if (unavailable !== undefined) return this.refuse("broker_unavailable", unavailable);
    let allowlist: readonly EgressRule[];
    try {
      allowlist = this.context.allowlist();
    } catch {
      return this.refuse(
        "broker_unavailable",
        "the allowlist cannot be read; nothing is allowed until it can",
      );
    }
    const head = {
      method: this.request.method ?? "",
      target: this.request.url ?? "",
      hostHeaders: headerValues(this.request.rawHeaders, "host"),
    };
    const check = checkEgressTarget(head, allowlist);
    [this.host, this.port, this.path] = check.allowed
      ? [check.target.host, check.target.port, check.target.path]
      : [check.host, check.port, check.path];
    if (!check.allowed) return this.refuse(check.reason, check.message);
    const admitted = this.admit();
    if (!admitted) return;
    const body = await this.readBody();
    if (body === undefined || this.done) return;
    await this.forward(check.target, allowlist, body);
  }

  /** Checks that need no body: Expect, the declared length and a free slot. */
  private admit(): boolean {
    const expect = headerValues(this.request.rawHeaders, "expect");
    if (expect.length > 1 || (expect.length === 1 && expect[0]?.toLowerCase() !== "100-continue")) {
      this.refuse("malformed_request", 'expected no Expect header other than "100-continue"');
      return false;
    }
    const declared = Number(this.request.headers["content-length"] ?? 0);
    if (declared > this.context.limits.requestBodyBytes) {
      this.refuse("body_too_large", this.bodyMessage());
      return false;
    }
    this.release = this.context.acquire();
    if (this.release === undefined) {
      const message = `expected at most ${this.context.limits.concurrent} requests at once; retry when one ends`;
      this.refuse("too_many_concurrent", message);
      return false;
    }
    if (expect.length === 1) this.response.writeContinue();
    return true;
  }

  /** Buffered whole, so an oversized body is refused before the upstream hears of it. */
  private readBody(): Promise<Buffer | undefined> {
    const limit = this.context.limits.requestBodyBytes;
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (body: Buffer | undefined): void => {
        this.request.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
        resolve(body);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
        else {
          this.refuse("body_too_large", this.bodyMessage());
          settle(undefined);
        }
      };
      const onEnd = (): void => settle(Buffer.concat(chunks, size));
      const onGone = (): void => settle(undefined);
      this.request.on("data", onData).once("end", onEnd).once("error", onGone).once("close", onGone);
    });
  }

  private async forward(target: EgressTarget, allowlist: readonly EgressRule[], body: Buffer): Promise<void> {
    this.upstream = requestUpstream({
      target,
      method: this.request.method ?? "GET",
      headers: forwardRequestHeaders(this.request.rawHeaders, target.authority, body.length),
      body,
      secureContext: this.context.secureContext,
      resolve: this.context.resolve,
      checkAddresses: (addresses) => checkResolvedAddresses(target, addresses, allowlist),
    });
    const outcome = await this.upstream.outcome;
    if (this.done) return this.upstream.abort();
    if (!outcome.ok) return this.refuse(outcome.reason, outcome.message);
    const upstream = outcome.response;
    const status = upstream.statusCode ?? 502;
    const locations = headerValues(upstream.rawHeaders, "location");
    if (status >= 300 && status < 400 && locations.length > 0) {
      const problem =
        locations.length > 1
          ? { reason: "redirect_not_allowed" as const, message: "the upstream sent more than one Location" }
          : checkRedirect(locations[0] ?? "", allowlist);
      if (problem !== undefined) {
        this.upstream.abort();
        return this.refuse(problem.reason, problem.message);
      }
    }
    const limit = this.context.limits.responseBodyBytes;
    if (Number(upstream.headers["content-length"] ?? 0) > limit) {
      this.upstream.abort();
      return this.refuse("response_too_large", `the upstream's response is over ${limit} bytes`);
    }
    this.status = status;
    this.response.writeHead(status, forwardResponseHeaders(upstream.rawHeaders));
    this.stream(upstream, limit);
  }

  private stream(upstream: IncomingMessage, limit: number): void {
    upstream.on("data", (chunk: Buffer) => {
      if (this.done) return;
      if (this.bytesIn + chunk.length > limit) {
        // The status is gone already: cutting the connection is the only way to say "incomplete".
        this.end("response_too_large", `the upstream's response is over ${limit} bytes`);
        return;
      }
      this.bytesIn += chunk.length;
      if (!this.response.write(chunk)) {
        upstream.pause();
        this.response.once("drain", () => upstream.resume());
      }
    });
    upstream.once("end", () => {
      if (!this.done) this.response.end(() => this.finish("ok"));
    });
    upstream.once("close", () => {
      if (!upstream.complete) this.end("upstream_error", "the upstream broke off its response");
    });
    upstream.on("error", () => {}); // reported by "close" above
  }

  /** A bug, not a verdict: still one audit event, and the upstream cut. */
  crash(error: unknown): void {
    process.stderr.write(
      `ironclaw egress: internal error: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
    this.end("internal_error", "the broker failed; see its log");
  }

  private onTimeout(): void {
    this.end("timeout", `expected the exchange to end within ${this.context.limits.timeoutMs} ms`);
  }

  /** Ends the exchange early: a refusal if the agent has no answer yet, else a cut connection. */
  private end(reason: RefusalReason, message: string): void {
    if (this.done) return;
    this.upstream?.abort();
    if (!this.response.headersSent) {
      this.refuse(reason, message);
      return;
    }
    this.finish(reason);
    this.response.destroy();
  }

  private refuse(reason: RefusalReason, message: string): void {
    if (this.done) return;
    this.status = sendRefusal(this.response, reason, message) ?? this.status;
    this.finish(reason);
  }

  private bodyMessage(): string {
    return `expected a request body of at most ${this.context.limits.requestBodyBytes} bytes`;
  }

  /** The one place an exchange ends: exactly one audit event, and its slot and timer given back. */
  private finish(reason: EgressReason): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.release?.();
    this.context.report({
      method: this.request.method ?? "",
      host: this.host,
      port: this.port,
      path: this.path,
      status: this.status,
      bytesIn: this.bytesIn,
      bytesOut: this.upstream?.bytesSent() ?? 0,
      durationMs: Math.round(performance.now() - this.started),
      decision: decisionOf(reason),
      reason,
    });
  }
}
