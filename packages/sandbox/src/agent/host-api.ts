import { request } from "node:http";

/** Where the host's sockets appear inside the sandbox. */
export const AGENT_SOCKET = "/run/ironclaw/agent.sock";
export const EGRESS_SOCKET = "/run/ironclaw/egress.sock";

export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One HTTP exchange over a unix socket; `target` may be absolute-form (the egress broker's form). */
export function exchange(
  socketPath: string,
  method: string,
  target: string,
  options: { readonly body?: unknown; readonly host?: string; readonly timeoutMs?: number } = {},
): Promise<{ status: number; text: string }> {
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
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${socketPath} in time`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** The agent API: the only way the agent talks to the host. */
export async function host(method: "GET" | "POST", path: string, body?: unknown): Promise<Reply> {
  const { status, text } = await exchange(AGENT_SOCKET, method, path, body === undefined ? {} : { body });
  return { status, body: JSON.parse(text) as Record<string, unknown> };
}
