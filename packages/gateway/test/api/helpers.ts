import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { GatewayError } from "../../src/errors.js";

/** Real directories, removed after each test. */
export function temporaryDirectories(): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), "ironclaw-api-"));
    made.push(dir);
    return dir;
  };
}

/** The code of the GatewayError a call throws or a promise rejects with; fails the test otherwise. */
export async function codeOf(action: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
  throw new Error("expected a GatewayError, but nothing was thrown");
}

export function errorOf(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError, but nothing was thrown");
}

function info(address: string, name: string): NetworkInterfaceInfo {
  const v6 = address.includes(":");
  const common = { address, mac: "00:00:00:00:00:00", internal: name === "lo" };
  return v6
    ? { ...common, family: "IPv6", netmask: "ffff:ffff:ffff:ffff::", cidr: `${address}/64`, scopeid: 0 }
    : { ...common, family: "IPv4", netmask: "255.255.255.0", cidr: `${address}/24` };
}

/** An os.networkInterfaces() result with the given addresses per interface. */
export function fakeInterfaces(map: Record<string, string[]>): NodeJS.Dict<NetworkInterfaceInfo[]> {
  return Object.fromEntries(
    Object.entries(map).map(([name, addresses]) => [name, addresses.map((a) => info(a, name))]),
  );
}

export const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** Every response, errors included, carries the security headers and no X-Powered-By. */
export function expectSecurityHeaders(headers: Headers | IncomingHttpHeaders | Record<string, string>): void {
  const get = (name: string): unknown =>
    headers instanceof Headers
      ? (headers.get(name) ?? undefined)
      : (headers as Record<string, unknown>)[name];
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(get(name), name).toBe(value);
  expect(get("x-powered-by")).toBeUndefined();
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The whole exchange as text, for asserting what never appears in it. */
  readonly text: string;
}

/** Sends bytes on a fresh TCP connection and reads until the server closes it (or `timeoutMs`). */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined); // A reset after the response is fine; the bytes are what count.
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseRaw(Buffer.concat(chunks).toString("utf8")));
    });
    socket.write(request);
  });
}

function parseRaw(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const head = split === -1 ? text : text.slice(0, split);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? "0"),
    headers,
    body: split === -1 ? "" : text.slice(split + 4),
    text,
  };
}

export interface NodeResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request with node:http, for what fetch will not send: TRACE, declared lengths that lie, chunked
 * bodies written piece by piece. Resolves with the response even if the server stops reading early.
 */
export function nodeRequest(
  port: number,
  options: { method: string; path: string; headers?: Record<string, string | string[]> },
  write: (request: ReturnType<typeof httpRequest>) => void = (request) => request.end(),
): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, agent: false, ...options }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      response.on("error", reject);
    });
    request.on("error", (error: NodeJS.ErrnoException) => {
      // Writing after the server answered and closed is expected in the 413 tests.
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    write(request);
  });
}
