/** Headers that describe one connection, or a proxy's credentials: never forwarded in either direction. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-authentication-info",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Request headers the broker sets itself from what it checked and buffered. */
const REQUEST_OWN = new Set(["host", "content-length", "expect"]);

/** Flat [name, value, name, value, …] as in IncomingMessage.rawHeaders. */
export type RawHeaders = readonly string[];

/** The request headers to send upstream: the agent's, less hop-by-hop ones and those the broker sets. */
export function forwardRequestHeaders(raw: RawHeaders, authority: string, bodyBytes: number): string[] {
  const out = ["Host", authority, ...withoutHopByHop(raw, REQUEST_OWN)];
  // A body-less GET needs no Content-Length; any request that had a body states its exact size.
  if (bodyBytes > 0 || hasHeader(raw, "content-length") || hasHeader(raw, "transfer-encoding")) {
    out.push("Content-Length", String(bodyBytes));
  }
  return out;
}

/** The response headers to pass to the agent; Node frames the body again itself. */
export function forwardResponseHeaders(raw: RawHeaders): string[] {
  return withoutHopByHop(raw, new Set());
}

/** Every value of one header, in order. */
export function headerValues(raw: RawHeaders, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]?.toLowerCase() === name) values.push(raw[i + 1] ?? "");
  }
  return values;
}

function hasHeader(raw: RawHeaders, name: string): boolean {
  return headerValues(raw, name).length > 0;
}

function withoutHopByHop(raw: RawHeaders, also: ReadonlySet<string>): string[] {
  // Connection may name further hop-by-hop headers (RFC 9110 §7.6.1).
  const named = new Set(
    headerValues(raw, "connection").flatMap((value) => value.split(",").map((n) => n.trim().toLowerCase())),
  );
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? "";
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || also.has(lower)) continue;
    out.push(name, raw[i + 1] ?? "");
  }
  return out;
}
