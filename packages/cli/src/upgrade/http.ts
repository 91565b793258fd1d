import { createWriteStream } from "node:fs";
import { CliError } from "../errors.js";

export interface HttpOptions {
  /** Whole-request budget, connection to last byte. */
  readonly timeoutMs: number;
  readonly onProgress?: (received: number, total: number) => void;
  /** Refuse a body larger than this. */
  readonly maxBytes?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** HTTPS only, except plain HTTP to this machine (a mirror under test, a local release server). */
export function assertSecureUrl(url: URL): void {
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return;
  throw new CliError(
    "IC_NETWORK_INSECURE",
    `refusing ${url.href}: releases are fetched over HTTPS (plain HTTP only to loopback)`,
  );
}

function networkError(url: URL, cause: unknown): CliError {
  const reason =
    cause instanceof Error ? (cause.name === "TimeoutError" ? "timed out" : cause.message) : String(cause);
  const detail = cause instanceof Error && cause.cause instanceof Error ? ` (${cause.cause.message})` : "";
  return new CliError("IC_NETWORK", `fetching ${url.href} failed: ${reason}${detail}`, { cause });
}

/** One request, no redirects followed: the caller decides what a redirect means. */
export async function request(url: URL, options: HttpOptions): Promise<Response> {
  assertSecureUrl(url);
  try {
    return await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(options.timeoutMs) });
  } catch (error) {
    throw networkError(url, error);
  }
}

/** A successful response's body, or the status as an error. */
function expectOk(url: URL, response: Response): Response {
  if (response.status >= 300 && response.status < 400) {
    throw new CliError(
      "IC_NETWORK_STATUS",
      `${url.href} redirected (${response.status}) where a file was expected`,
    );
  }
  if (!response.ok)
    throw new CliError(
      "IC_NETWORK_STATUS",
      `${url.href} answered HTTP ${response.status} ${response.statusText}`.trim(),
    );
  return response;
}

/**
 * Streams a file to `path` (which the caller keeps private), refusing bodies that are cut short,
 * longer than announced or over the limit. Nothing downloaded is ever executed here.
 */
export async function download(url: URL, path: string, options: HttpOptions): Promise<number> {
  const response = expectOk(url, await request(url, options));
  const announced = Number(response.headers.get("content-length") ?? Number.NaN);
  const limit = options.maxBytes ?? Number.POSITIVE_INFINITY;
  if (announced > limit)
    throw new CliError("IC_NETWORK", `${url.href} is ${announced} bytes; the limit is ${limit}`);
  const file = createWriteStream(path, { flags: "wx", mode: 0o600 });
  // A full disk or a file-size limit fails the write: that is this machine's fault, not the server's.
  let writeError: Error | undefined;
  file.on("error", (error) => {
    writeError = error;
  });
  const written = () => {
    if (writeError !== undefined) {
      throw new CliError("IC_INSTALL_WRITE", `cannot write the download to ${path}: ${writeError.message}`, {
        cause: writeError,
      });
    }
  };
  let received = 0;
  try {
    if (response.body === null) throw new Error("the response has no body");
    for await (const chunk of response.body) {
      received += chunk.length;
      if (received > limit) throw new Error(`the body passed the limit of ${limit} bytes`);
      if (!file.write(chunk)) {
        await new Promise<void>((resolve) => {
          file.once("drain", resolve);
          file.once("close", resolve);
        });
      }
      written();
      options.onProgress?.(received, Number.isNaN(announced) ? received : announced);
    }
    if (!Number.isNaN(announced) && received !== announced) {
      throw new Error(`the connection ended after ${received} of ${announced} bytes`);
    }
  } catch (error) {
    file.destroy();
    if (error instanceof CliError) throw error;
    throw networkError(url, error);
  }
  await new Promise<void>((resolve) => {
    file.end(() => resolve());
    file.once("close", resolve);
  });
  written();
  return received;
}

export async function fetchText(url: URL, options: HttpOptions): Promise<string> {
  const response = expectOk(url, await request(url, options));
  try {
    return await response.text();
  } catch (error) {
    throw networkError(url, error);
  }
}
