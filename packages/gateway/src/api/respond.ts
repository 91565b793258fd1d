import { type ServerResponse, STATUS_CODES } from "node:http";
import type { GatewayErrorCode } from "../errors.js";
import type { JsonValue } from "../json.js";

export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** On every response, errors included: the API is JSON for programs, never a page for a browser. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

export function errorBody(code: GatewayErrorCode, message: string): JsonValue {
  return { error: { code, message } };
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: JsonValue,
  headers: Readonly<Record<string, string>> = {},
): void {
  // The client may be gone, or a timeout may already have answered on the raw socket.
  if (response.headersSent || response.writableEnded || response.destroyed || response.socket?.destroyed)
    return;
  if (status === 204 || status === 304) {
    response.writeHead(status, { ...SECURITY_HEADERS, ...headers });
    response.end();
    return;
  }
  const payload = Buffer.from(JSON.stringify(body), "utf8");
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    "Content-Type": JSON_CONTENT_TYPE,
    "Content-Length": String(payload.length),
    ...headers,
  });
  response.end(payload);
}

/** A complete HTTP/1.1 error response as bytes, for errors node reports before a ServerResponse exists. */
export function rawErrorResponse(status: number, code: GatewayErrorCode, message: string): string {
  const payload = JSON.stringify(errorBody(code, message));
  const headers = {
    ...SECURITY_HEADERS,
    "Content-Type": JSON_CONTENT_TYPE,
    "Content-Length": String(Buffer.byteLength(payload)),
    Connection: "close",
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n${lines.join("")}\r\n${payload}`;
}
