import { createWriteStream } from "node:fs";
import { type ClientRequest, request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { CliError } from "../errors.js";
import { buildInfo } from "../version.js";
import { assertRedirectAllowed, assertSecureBase, MAX_REDIRECTS } from "./redirect-policy.js";

export interface HttpOptions {
  /**
   * Give up when connecting takes this long, or when no byte arrives for this long. Never a cap on
   * the whole transfer: a slow but steady link finishes.
   */
  readonly timeoutMs: number;
  /** Stops every request at once (a signal, say). */
  readonly signal?: AbortSignal;
}

export interface BodyOptions extends HttpOptions {
  /** Refuse a body larger than this, announced or counted while reading. */
  readonly maxBytes: number;
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

export interface Fetched {
  /** The URL asked for, and the one that answered after redirects. */
  readonly url: string;
  readonly finalUrl: string;
  readonly bytes: number;
}

/** Response heads larger than this are a server's attack, not a release. */
const MAX_HEADER_BYTES = 16 * 1024;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** The idle timeout's error, for the body reader: the response itself only says "aborted". */
const timedOut = new WeakMap<ClientRequest, CliError>();

/**
 * A server's text (a reason phrase, a tag) quoted for an error message: JSON escapes C0 controls but
 * not DEL, C1 (CSI is U+009B) or bidirectional overrides, and any of them could steer a terminal.
 */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function networkError(url: URL, cause: unknown): CliError {
  if (cause instanceof CliError) return cause;
  const error = cause instanceof Error ? cause : new Error(String(cause));
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === "HPE_HEADER_OVERFLOW"
      ? `the response headers are over ${MAX_HEADER_BYTES} bytes`
      : code === undefined
        ? error.message
        : `${error.message} (${code})`;
  return new CliError("IC_NETWORK", `fetching ${url.href} failed: ${reason}`, { cause });
}

/** One GET, its head only; the body is left unread for the caller. */
function openOnce(
  url: URL,
  options: HttpOptions,
): Promise<{ request: ClientRequest; response: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const request = send(url, {
      method: "GET",
      agent: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      // The socket's idle timer runs from before the connection to the last byte, reset by every byte.
      timeout: options.timeoutMs,
      headers: {
        "user-agent": `ironclaw/${buildInfo().version}`,
        accept: "application/octet-stream, text/plain",
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    request.on("timeout", () => {
      const error = new CliError(
        "IC_NETWORK_TIMEOUT",
        `fetching ${url.href} failed: nothing arrived for ${options.timeoutMs / 1000} s (--timeout)`,
      );
      timedOut.set(request, error);
      request.destroy(error);
    });
    request.on("error", (error) => reject(networkError(url, error)));
    request.on("response", (response) => resolve({ request, response }));
    request.end();
  });
}

export interface Opened {
  readonly response: IncomingMessage;
  readonly finalUrl: URL;
  readonly request: ClientRequest;
}

/**
 * GETs `url`, following at most MAX_REDIRECTS redirects, each judged against `base` before it is
 * requested. `intercept` sees each redirect target first and may end the walk with a value (the
 * latest-release lookup reads the tag from a redirect without following it).
 */
export async function openFollowing<T>(
  start: URL,
  base: URL,
  options: HttpOptions,
  intercept?: (next: URL) => T | undefined,
): Promise<Opened | { readonly intercepted: T; readonly finalUrl: URL }> {
  assertSecureBase(base);
  let url = start;
  const visited = new Set<string>();
  for (let hop = 0; ; hop++) {
    if (visited.has(url.href))
      throw new CliError("IC_NETWORK_REDIRECTS", `the release server redirects in a loop at ${url.href}`);
    visited.add(url.href);
    const { request, response } = await openOnce(url, options);
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUS.has(status)) {
      if (status === 200) return { response, finalUrl: url, request };
      request.destroy();
      throw new CliError(
        "IC_NETWORK_STATUS",
        `${url.href} answered HTTP ${status} ${quoted(response.statusMessage ?? "")}`,
      );
    }
    // A redirect's body is never read: it could be endless.
    request.destroy();
    const location = response.headers.location;
    if (location === undefined)
      throw new CliError("IC_NETWORK_STATUS", `${url.href} redirected (${status}) without a Location`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new CliError("IC_NETWORK_STATUS", `${url.href} redirected to an invalid Location`);
    }
    assertRedirectAllowed(base, url, next);
    const value = intercept?.(next);
    if (value !== undefined) return { intercepted: value, finalUrl: next };
    if (hop >= MAX_REDIRECTS) {
      throw new CliError(
        "IC_NETWORK_REDIRECTS",
        `${start.href} redirected more than ${MAX_REDIRECTS} times (last to ${next.href})`,
      );
    }
    url = next;
  }
}

async function open(url: URL, base: URL, options: HttpOptions): Promise<Opened> {
  const opened = await openFollowing<never>(url, base, options);
  if ("intercepted" in opened) throw new Error("unreachable: nothing intercepts");
  return opened;
}

/** The announced length, refused at once when it is over the limit. */
function announcedLength(opened: Opened, maxBytes: number): number | undefined {
  const header = opened.response.headers["content-length"];
  if (header === undefined) return undefined;
  const announced = Number(header);
  if (!Number.isSafeInteger(announced) || announced < 0) {
    opened.request.destroy();
    throw new CliError(
      "IC_NETWORK",
      `${opened.finalUrl.href} announced an invalid length ${JSON.stringify(header)}`,
    );
  }
  if (announced > maxBytes) {
    opened.request.destroy();
    throw tooLarge(opened.finalUrl, `announces ${announced} bytes`, maxBytes);
  }
  return announced;
}

function tooLarge(url: URL, what: string, maxBytes: number): CliError {
  return new CliError(
    "IC_NETWORK_TOO_LARGE",
    `${url.href} ${what}; no release file is over ${maxBytes} bytes, so it was refused`,
  );
}

/** Reads the body chunk by chunk, counting against the limit and the announced length as it goes. */
async function* boundedBody(opened: Opened, options: BodyOptions): AsyncGenerator<Buffer> {
  const announced = announcedLength(opened, options.maxBytes);
  let received = 0;
  try {
    for await (const chunk of opened.response as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > options.maxBytes)
        throw tooLarge(opened.finalUrl, `sent more than ${options.maxBytes} bytes`, options.maxBytes);
      if (announced !== undefined && received > announced)
        throw new CliError(
          "IC_NETWORK",
          `${opened.finalUrl.href} sent more than the ${announced} bytes it announced`,
        );
      yield chunk;
      options.onProgress?.(received, announced);
    }
  } catch (error) {
    opened.request.destroy();
    const timeout = timedOut.get(opened.request);
    if (timeout !== undefined) throw timeout;
    const code = (error as NodeJS.ErrnoException).code;
    if (!(error instanceof CliError) && (code === "ECONNRESET" || (error as Error).message === "aborted"))
      throw cutShort(opened.finalUrl, received, announced, error);
    throw networkError(opened.finalUrl, error);
  }
  if (!opened.response.complete || (announced !== undefined && received !== announced)) {
    throw cutShort(opened.finalUrl, received, announced, undefined);
  }
}

function cutShort(url: URL, received: number, announced: number | undefined, cause: unknown): CliError {
  const of = announced === undefined ? "" : ` of ${announced}`;
  return new CliError(
    "IC_NETWORK",
    `fetching ${url.href} failed: the connection ended after ${received}${of} bytes`,
    {
      cause,
    },
  );
}

/** A small body in memory (the latest tag, say), bounded while it is read. */
export async function fetchBody(
  opened: Opened,
  url: URL,
  options: BodyOptions,
): Promise<{ readonly body: Buffer; readonly fetched: Fetched }> {
  const chunks: Buffer[] = [];
  for await (const chunk of boundedBody(opened, options)) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  return { body, fetched: { url: url.href, finalUrl: opened.finalUrl.href, bytes: body.length } };
}

/**
 * Streams a file to `path` (which the caller keeps private), refusing bodies that are cut short,
 * longer than announced or over the limit while they arrive. Nothing downloaded is executed here.
 */
export async function download(url: URL, base: URL, path: string, options: BodyOptions): Promise<Fetched> {
  const opened = await open(url, base, options);
  const file = createWriteStream(path, { flags: "wx", mode: 0o600 });
  // A full disk or a file-size limit fails the write: that is this machine's fault, not the server's.
  let writeError: Error | undefined;
  file.on("error", (error) => {
    writeError = error;
  });
  const written = () => {
    if (writeError !== undefined) {
      opened.request.destroy();
      throw new CliError("IC_INSTALL_WRITE", `cannot write the download to ${path}: ${writeError.message}`, {
        cause: writeError,
      });
    }
  };
  let received = 0;
  try {
    for await (const chunk of boundedBody(opened, options)) {
      received += chunk.length;
      if (!file.write(chunk)) {
        // Wait for room, or for the stream to fail; leave no listener behind either way.
        await new Promise<void>((resolve) => {
          const done = () => {
            file.off("drain", done);
            file.off("close", done);
            resolve();
          };
          file.on("drain", done);
          file.on("close", done);
        });
      }
      written();
    }
  } catch (error) {
    file.destroy();
    throw error;
  }
  await new Promise<void>((resolve) => {
    file.end(() => resolve());
    file.once("close", resolve);
  });
  written();
  return { url: url.href, finalUrl: opened.finalUrl.href, bytes: received };
}
