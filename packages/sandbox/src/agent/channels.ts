import { existsSync } from "node:fs";
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

/**
 * The host opens a socket as the change that grants it is applied, a moment after the agent hears of
 * the approval: wait that moment, then let the connection say what it says.
 */
export async function socketAppears(path: string, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!existsSync(path) && Date.now() < deadline) await sleep(50);
}
