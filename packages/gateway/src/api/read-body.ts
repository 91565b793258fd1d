import type { IncomingMessage } from "node:http";
import { GatewayError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { isJsonMediaType } from "./media-type.js";
import { DEFAULT_MAX_DEPTH, parseStrictJson } from "./strict-json.js";

const BODY_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The request's JSON body, or undefined when it has none. Checks come before reading where they can
 * (method, media type, declared length), and reading stops at the limit, so a client cannot make the
 * gateway buffer more than `limitBytes`.
 */
export async function readJsonBody(
  request: IncomingMessage,
  limitBytes: number,
  /** Called once the body is wanted, e.g. to send `100 Continue` only after every check has passed. */
  beforeReading: () => void = () => undefined,
): Promise<JsonValue | undefined> {
  const method = request.method ?? "";
  const declared = request.headers["content-length"];
  const hasBody =
    request.headers["transfer-encoding"] !== undefined || (declared !== undefined && declared !== "0");
  if (!BODY_METHODS.has(method)) {
    if (!hasBody) return undefined;
    throw new GatewayError(
      "IC_API_BAD_REQUEST",
      `expected no body with ${method}, found one; send parameters in the query string`,
    );
  }
  if (!hasBody) return undefined;
  const encoding = request.headers["content-encoding"];
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
    throw unsupported(
      `expected an uncompressed body, found Content-Encoding ${JSON.stringify(encoding)}; send it uncompressed`,
    );
  }
  const types = request.headersDistinct["content-type"] ?? [];
  if (types.length !== 1 || !isJsonMediaType(types[0])) {
    const found = types.length === 0 ? "none" : JSON.stringify(types.join(", "));
    throw unsupported(
      `expected Content-Type application/json (charset=utf-8 allowed), found ${found}; send JSON`,
    );
  }
  if (declared !== undefined && Number(declared) > limitBytes)
    throw tooLarge(limitBytes, `Content-Length ${declared}`);
  beforeReading();
  const bytes = await readLimited(request, limitBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw badJson("expected the body in UTF-8, found an invalid byte sequence; encode it as UTF-8");
  }
  const parsed = parseStrictJson(text);
  if (!parsed.ok) {
    throw badJson(
      `expected strict JSON in the body, found ${parsed.problem} at character ${parsed.offset}; send one object with each key once, integers only, nested at most ${DEFAULT_MAX_DEPTH} deep`,
    );
  }
  const value = parsed.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const kind = Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`;
    throw badJson(
      `expected a JSON object at the top level of the body, found ${kind}; wrap the fields in an object`,
    );
  }
  return value;
}

function readLimited(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: () => void): void => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
      outcome();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      request.pause(); // Stop reading; the response closes the connection.
      settle(() => reject(tooLarge(limitBytes, "more")));
    };
    const onEnd = (): void => settle(() => resolve(Buffer.concat(chunks, size)));
    const onError = (cause: Error): void =>
      settle(() =>
        reject(
          new GatewayError("IC_API_BAD_REQUEST", `the request body could not be read: ${cause.message}`, {
            cause,
          }),
        ),
      );
    const onClose = (): void => {
      if (!request.complete) {
        settle(() =>
          reject(
            new GatewayError("IC_API_BAD_REQUEST", "the connection closed before the body was complete"),
          ),
        );
      }
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("close", onClose);
  });
}

function tooLarge(limitBytes: number, found: string): GatewayError {
  return new GatewayError(
    "IC_API_BODY_TOO_LARGE",
    `expected a body of at most ${limitBytes} bytes, found ${found}; send a smaller request`,
  );
}

function unsupported(message: string): GatewayError {
  return new GatewayError("IC_API_UNSUPPORTED_MEDIA_TYPE", message);
}

function badJson(message: string): GatewayError {
  return new GatewayError("IC_API_BAD_JSON", message);
}
