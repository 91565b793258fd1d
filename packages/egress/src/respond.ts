import { type ServerResponse, STATUS_CODES } from "node:http";
import { REFUSALS, type RefusalReason } from "./reasons.js";

const JSON_HEADERS = {
  "Content-Type": "application/json; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  // An unread request body must not be parsed as the next request.
  Connection: "close",
};

export function refusalBody(reason: RefusalReason, message: string): string {
  return JSON.stringify({ error: { code: REFUSALS[reason].code, message } });
}

/** Answers a refusal and returns its status, or null when the agent can no longer be answered. */
export function sendRefusal(response: ServerResponse, reason: RefusalReason, message: string): number | null {
  if (response.headersSent || response.writableEnded || response.destroyed) return null;
  const { status } = REFUSALS[reason];
  const payload = Buffer.from(refusalBody(reason, message), "utf8");
  response.writeHead(status, { ...JSON_HEADERS, "Content-Length": String(payload.length) });
  response.end(payload);
  return status;
}

/** The same as raw bytes, for a socket node hands over without a ServerResponse (CONNECT, parse errors). */
export function rawRefusal(reason: RefusalReason, message: string): string {
  const { status } = REFUSALS[reason];
  const payload = refusalBody(reason, message);
  const headers = { ...JSON_HEADERS, "Content-Length": String(Buffer.byteLength(payload)) };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n${lines.join("")}\r\n${payload}`;
}
