import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Where the host's sockets appear inside the sandbox; a test running the loop outside one passes its own. */
export interface Channels {
  /** The agent API: messages, the registry's view of this agent, change requests. Always there. */
  readonly agent: string;
  /** The model proxy: there only while a `model` change is applied for this agent. */
  readonly model: string;
  /** The egress broker: there only while http_fetch is enabled and a host is allowed. */
  readonly egress: string;
}

export const SANDBOX_CHANNELS: Channels = Object.freeze({
  agent: "/run/ironclaw/agent.sock",
  model: "/run/ironclaw/model.sock",
  egress: "/run/ironclaw/egress.sock",
});

/** Whether something listens on a unix socket: a connection, not a stat, which Node's permission model refuses. */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * The host opens a socket as the change that grants it is applied, a moment after the agent hears of
 * the approval: wait that moment. Whether it listens in the end, the caller learns.
 */
async function socketAppears(path: string, withinMs = 3000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await listening(path)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

const NOT_LISTENING = new Set(["ENOENT", "ECONNREFUSED"]);

/**
 * Runs an exchange on a host socket; only when nothing listens there yet does it wait for the socket
 * (a change just applied) and try once more. The common case costs one connection, not a probe first.
 */
export async function onSocket<T>(path: string, exchange: () => Promise<T>): Promise<T> {
  try {
    return await exchange();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || !NOT_LISTENING.has(code) || !(await socketAppears(path))) throw error;
    return exchange();
  }
}
