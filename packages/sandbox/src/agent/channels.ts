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
