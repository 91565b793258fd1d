import { lookup as dnsLookup } from "node:dns";
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import type { SecureContext } from "node:tls";
import { ModelError, type ModelErrorCode } from "./errors.js";
import { scrub } from "./scrub.js";

export interface HttpLimits {
  /** From the request to a connected (and, for https, verified) socket. */
  readonly connectTimeoutMs: number;
  /** The longest silence on the socket once connected. */
  readonly idleTimeoutMs: number;
  /** The whole exchange, first byte to last. */
  readonly deadlineMs: number;
  readonly responseHeaderBytes: number;
  readonly responseBodyBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 120_000,
  deadlineMs: 300_000,
  responseHeaderBytes: 16 * 1024,
  responseBodyBytes: 8 * 1024 * 1024,
};

export interface PostJsonOptions {
  /** For messages: which configured provider this is. */
  readonly provider: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Texts that must never leave in an error message (the API key). */
  readonly secrets: readonly string[];
  readonly limits: HttpLimits;
  /** Every trusted root; undefined for Node's defaults. */
  readonly secureContext?: SecureContext | undefined;
}

export interface HttpReply {
  readonly status: number;
  readonly body: Buffer;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Why a provider base URL is refused: https anywhere, plain http only to this machine. */
export function baseUrlProblem(url: URL): string | undefined {
  if (url.username !== "" || url.password !== "")
    return "expected no credentials in the URL; use apiKeyEnv or apiKeyFile";
  if (url.search !== "" || url.hash !== "") return "expected no query or fragment";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    if (LOOPBACK_NAMES.has(url.hostname) || isLoopbackAddress(url.hostname)) return undefined;
    return `plain http is allowed only to a loopback host (a local Ollama or llama.cpp), found ${url.hostname}; use https`;
  }
  return `expected an https:// URL, found ${url.protocol}`;
}

function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  if (isIP(bare) === 4) return bare.startsWith("127.");
  return bare === "::1";
}

/** A lookup that hands the connect only loopback addresses: "localhost" cannot be pointed elsewhere. */
const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true }, (error, addresses) => {
    if (error !== null) return callback(error, "", 4);
    const usable = addresses.filter((a) => isLoopbackAddress(a.address));
    const first = usable[0];
    if (first === undefined) {
      return callback(
        Object.assign(new Error(`${hostname} is not a loopback address`), { code: "ENOTLOOPBACK" }),
        "",
        4,
      );
    }
    if (options.all) callback(null, usable);
    else callback(null, first.address, first.family);
  });
};

/**
 * One POST of JSON, on a fresh connection, certificate verified, never redirected, bounded in time and
 * size while it reads. A non-2xx answer is thrown as a ModelError carrying the provider's own message,
 * cut short and with every secret removed.
 */
export function postJson(options: PostJsonOptions): Promise<HttpReply> {
  const { url, limits } = options;
  const secure = url.protocol === "https:";
  const body = Buffer.from(options.body, "utf8");
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    let connected = false;
    let request: ClientRequest | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      outcome();
    };
    const fail = (code: ModelErrorCode, message: string): void =>
      finish(() => {
        request?.destroy();
        // Before the connection (TLS included) was up, nothing reached the provider: nothing was spent.
        const unsent = connected ? {} : { spent: { inputTokens: 0, outputTokens: 0 } };
        reject(
          new ModelError(
            code,
            scrub(`provider ${options.provider}: ${message}`, options.secrets, 600),
            unsent,
          ),
        );
      });
    timers.push(
      setTimeout(
        () => fail("IC_MODEL_PROVIDER_TIMEOUT", `no answer within ${limits.deadlineMs} ms; try again later`),
        limits.deadlineMs,
      ),
      setTimeout(() => {
        if (!connected)
          fail("IC_MODEL_PROVIDER_TIMEOUT", `could not connect within ${limits.connectTimeoutMs} ms`);
      }, limits.connectTimeoutMs),
    );
    const send = secure ? httpsRequest : httpRequest;
    request = send({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port === "" ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: "POST",
      headers: { ...options.headers, "content-length": String(body.length) },
      agent: false,
      maxHeaderSize: limits.responseHeaderBytes,
      insecureHTTPParser: false,
      joinDuplicateHeaders: false,
      ...(secure
        ? {
            rejectUnauthorized: true,
            ...(options.secureContext === undefined ? {} : { secureContext: options.secureContext }),
          }
        : { lookup: loopbackLookup }),
    });
    request.on("socket", (socket) => {
      socket.once(secure ? "secureConnect" : "connect", () => {
        connected = true;
      });
      socket.setTimeout(limits.idleTimeoutMs, () =>
        fail("IC_MODEL_PROVIDER_TIMEOUT", `silent for ${limits.idleTimeoutMs} ms; try again later`),
      );
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? "";
      if (code === "HPE_HEADER_OVERFLOW")
        fail("IC_MODEL_PROVIDER_RESPONSE", `sent response headers over ${limits.responseHeaderBytes} bytes`);
      else if (code.startsWith("HPE_"))
        fail("IC_MODEL_PROVIDER_RESPONSE", `sent a malformed HTTP response (${code})`);
      else if (secure && !connected && isTlsError(error))
        fail("IC_MODEL_PROVIDER_TLS", `TLS failed (${code || error.message}); the certificate must verify`);
      else fail("IC_MODEL_PROVIDER_UNREACHABLE", `cannot reach ${url.host} (${code || error.message})`);
    });
    request.on("response", (response) =>
      readResponse(response, options, fail, (reply) => finish(() => resolve(reply))),
    );
    request.end(body);
  });
}

function readResponse(
  response: IncomingMessage,
  options: PostJsonOptions,
  fail: (code: ModelErrorCode, message: string) => void,
  done: (reply: HttpReply) => void,
): void {
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    fail(
      "IC_MODEL_PROVIDER_REDIRECT",
      `answered ${status} (a redirect), which is never followed; check the base URL`,
    );
    return;
  }
  const declared = Number(response.headers["content-length"] ?? 0);
  if (declared > options.limits.responseBodyBytes) {
    fail(
      "IC_MODEL_PROVIDER_TOO_LARGE",
      `declared a ${declared}-byte response, over ${options.limits.responseBodyBytes}`,
    );
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  response.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > options.limits.responseBodyBytes) {
      fail("IC_MODEL_PROVIDER_TOO_LARGE", `sent a response over ${options.limits.responseBodyBytes} bytes`);
      return;
    }
    chunks.push(chunk);
  });
  response.on("error", () => {});
  response.on("close", () => {
    if (!response.complete) {
      fail("IC_MODEL_PROVIDER_RESPONSE", "closed the connection before the response was complete");
      return;
    }
    const body = Buffer.concat(chunks);
    if (status >= 200 && status < 300) done({ status, body });
    else {
      const [code, hint] = statusCode(status);
      fail(code, `answered ${status}: ${providerMessage(body)}; ${hint}`);
    }
  });
}

function statusCode(status: number): [ModelErrorCode, string] {
  if (status === 401 || status === 403) return ["IC_MODEL_PROVIDER_AUTH", "check the provider's API key"];
  if (status === 429) return ["IC_MODEL_PROVIDER_RATE_LIMITED", "wait and try again"];
  if (status >= 400 && status < 500)
    return ["IC_MODEL_PROVIDER_REJECTED", "the request or model was refused"];
  if (status >= 500) return ["IC_MODEL_PROVIDER_ERROR", "the provider failed; try again later"];
  return ["IC_MODEL_PROVIDER_RESPONSE", "expected a 2xx answer"];
}

/** The provider's own words: `error.message` in both Anthropic's and OpenAI's error bodies, else the text. */
function providerMessage(body: Buffer): string {
  const text = body.subarray(0, 4096).toString("utf8");
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === "string") return parsed.error.message;
  } catch {
    // Not JSON: the start of the text will do.
  }
  return text === "" ? "(empty body)" : text;
}

function isTlsError(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? "";
  return (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    /CERT|SELF_SIGNED|UNABLE_TO|LEAF_SIGNATURE|HOSTNAME/.test(code) ||
    /certificate|SSL|TLS/.test(error.message)
  );
}
