import { createServer, type Server } from "node:http";
import { serveOn } from "./placeholder-broker.js";

/** What the harness needs of a model proxy: serve a model socket for one approval, and stop. */
export interface ModelProxyHook {
  start(
    socketPath: string,
    approval: { readonly dailyTokens: number; readonly keyFile: string },
  ): Promise<{ close(): Promise<void> }>;
}

const FIELDS = new Set(["system", "messages", "tools", "maxOutputTokens"]);

/**
 * PLACEHOLDER, replaced by the real model proxy through `modelProxy` (the CLI's self-test passes it):
 * answers a request of the neutral format with a fixed reply, refuses unknown fields, and stops at
 * the budget, as the real one must. Reports say when it stood in.
 */
export const placeholderModelProxy: ModelProxyHook = {
  start(socketPath, { dailyTokens }) {
    let used = 0;
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const send = (status: number, body: unknown) =>
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        } catch {
          return send(400, { error: { code: "IC_MODEL_BAD_REQUEST", message: "not JSON" } });
        }
        const unknown = Object.keys(body).find((key) => !FIELDS.has(key));
        if (unknown !== undefined)
          return send(400, { error: { code: "IC_MODEL_BAD_REQUEST", message: `unknown field ${unknown}` } });
        if (used + 20 > dailyTokens)
          return send(429, { error: { code: "IC_MODEL_BUDGET_EXHAUSTED", message: "budget spent" } });
        used += 20;
        return send(200, {
          content: [{ type: "text", text: "placeholder" }],
          stop: "end",
          usage: { inputTokens: 15, outputTokens: 5 },
          provider: "placeholder",
          model: "placeholder",
        });
      });
    });
    return serveOn(server, socketPath);
  },
};
