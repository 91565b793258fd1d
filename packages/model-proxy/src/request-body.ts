import type { IncomingMessage } from "node:http";
import { ModelError } from "./errors.js";

/** Reads a request body, refusing it as soon as it is too large or too slow. */
export function readRequestBody(
  request: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBytes) {
      reject(
        new ModelError(
          "IC_MODEL_REQUEST_TOO_LARGE",
          `expected a body of at most ${maxBytes} bytes, found ${declared}; send a shorter conversation`,
        ),
      );
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      outcome();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new ModelError("IC_MODEL_REQUEST_TIMEOUT", `expected the whole body within ${timeoutMs} ms`),
          ),
        ),
      timeoutMs,
    );
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        finish(() =>
          reject(
            new ModelError(
              "IC_MODEL_REQUEST_TOO_LARGE",
              `expected a body of at most ${maxBytes} bytes; send a shorter conversation`,
            ),
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => finish(() => resolve(Buffer.concat(chunks))));
    request.on("error", (error) =>
      finish(() => reject(new ModelError("IC_MODEL_BAD_REQUEST", `the request failed: ${error.message}`))),
    );
  });
}
