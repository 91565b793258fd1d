import type { ServerResponse } from "node:http";
import type { Gateway } from "@ironclaw/gateway";
import { sendError, startEventStream } from "./http-util.js";

export const MAX_LIVE_VIEWS = 32;
const POLL_MS = 250;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events: `head` whenever the log grows (the page then reloads its view), `signed-out`
 * when the session ends. Bounded: at most MAX_LIVE_VIEWS streams at once.
 */
export class LiveViews {
  readonly #streams = new Set<ServerResponse>();
  readonly #gateway: Gateway;
  readonly #now: () => number;

  constructor(gateway: Gateway, now: () => number) {
    this.#gateway = gateway;
    this.#now = now;
  }

  serve(response: ServerResponse, signedIn: () => boolean): void {
    if (this.#streams.size >= MAX_LIVE_VIEWS) {
      sendError(
        response,
        503,
        "IC_CONSOLE_BUSY",
        `at most ${MAX_LIVE_VIEWS} live views at once; close a tab`,
      );
      return;
    }
    startEventStream(response);
    this.#streams.add(response);
    let seq = -1;
    let beat = this.#now();
    const timer = setInterval(() => {
      if (!signedIn()) {
        clearInterval(timer);
        response.end("event: signed-out\ndata: {}\n\n");
        return;
      }
      const head = this.#gateway.head.seq;
      if (head !== seq) {
        seq = head;
        beat = this.#now();
        response.write(`event: head\ndata: ${JSON.stringify({ seq })}\n\n`);
      } else if (this.#now() - beat > HEARTBEAT_MS) {
        beat = this.#now();
        response.write(": still here\n\n");
      }
    }, POLL_MS);
    response.on("close", () => {
      clearInterval(timer);
      this.#streams.delete(response);
    });
  }

  endAll(): void {
    for (const stream of this.#streams) stream.end();
  }
}
