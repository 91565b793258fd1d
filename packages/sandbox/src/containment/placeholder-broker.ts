import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";

/** Listens on a unix socket; `close` also ends the connections still open. */
export function serveOn(server: Server, socketPath: string): Promise<{ close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** What the harness needs of an egress broker: serve HTTP on a unix socket, and stop. */
export interface EgressBrokerHook {
  start(socketPath: string): Promise<{ close(): Promise<void> }>;
}

/**
 * PLACEHOLDER, to be replaced by the real egress broker through `egressBroker`: an HTTP proxy on a
 * unix socket that refuses every request (403), as the real one must refuse hosts off the allowlist.
 * It lets the self-test check today that the probe reaches a broker and reads its refusal.
 */
export const placeholderBroker: EgressBrokerHook = {
  start(socketPath) {
    const server: Server = createServer((_req, res) => {
      res.writeHead(403, { "content-type": "text/plain" }).end("not on the allowlist (placeholder broker)\n");
    });
    server.on("connect", (_req, socket: Socket) => {
      socket.on("error", () => {});
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
    });
    return serveOn(server, socketPath);
  },
};
