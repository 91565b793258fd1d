import { request } from "node:http";
import type { Channels } from "./channels.js";

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The most the agent reads of any answer: the host is trusted, the pages it relays are not. */
const ANSWER_LIMIT = 4 * 1024 * 1024;

/** One HTTP exchange over a unix socket; `target` may be absolute-form (the egress broker's form). */
export function exchange(
  socketPath: string,
  method: string,
  target: string,
  options: { readonly body?: unknown; readonly host?: string; readonly timeoutMs?: number } = {},
): Promise<{ status: number; text: string; truncated: boolean }> {
  const data = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path: target,
        timeout: options.timeoutMs ?? 30_000,
        headers: {
          ...(options.host === undefined ? {} : { host: options.host }),
          ...(data === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(data) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const finish = () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            truncated,
          });
        res.on("data", (chunk: Buffer) => {
          if (truncated) return;
          size += chunk.length;
          if (size > ANSWER_LIMIT) {
            chunks.push(chunk.subarray(0, chunk.length - (size - ANSWER_LIMIT)));
            truncated = true;
            res.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", finish);
        res.on("error", (error) => (truncated ? undefined : reject(error)));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${socketPath} in time`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** The agent API: the only way the agent talks to the host. */
export class HostApi {
  constructor(readonly channels: Channels) {}

  async call(method: "GET" | "POST", path: string, body?: unknown): Promise<Reply> {
    const { status, text } = await exchange(
      this.channels.agent,
      method,
      path,
      body === undefined ? {} : { body },
    );
    return { status, body: JSON.parse(text) as Record<string, unknown> };
  }

  async say(text: string, to?: string): Promise<Reply> {
    return this.call("POST", "/v1/messages", to === undefined ? { text } : { to, text });
  }
}
