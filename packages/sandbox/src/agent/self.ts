import type { HostApi } from "./host-api.js";

/** This agent as the registry sees it, read from the agent API before every step and every tool call. */
export interface AgentSelf {
  readonly name: string;
  readonly persona: { readonly name: string; readonly instructions: string } | null;
  readonly tools: readonly string[];
  readonly peers: readonly string[];
  readonly grants: readonly string[];
  readonly egress: readonly { readonly host: string; readonly port: number }[];
  readonly skills: readonly {
    readonly name: string;
    readonly description?: string;
    readonly instructions?: string;
  }[];
  readonly model?: { readonly provider: string; readonly model: string } | null;
  readonly mcpServers?: readonly { readonly name: string }[];
}

export async function readSelf(api: HostApi): Promise<AgentSelf> {
  const reply = await api.call("GET", "/v1/self");
  const agent = reply.body.agent as AgentSelf | undefined;
  if (reply.status !== 200 || agent === undefined)
    throw new Error(`the agent API did not say who I am (status ${reply.status})`);
  return {
    ...agent,
    persona: agent.persona ?? null,
    tools: agent.tools ?? [],
    peers: agent.peers ?? [],
    grants: agent.grants ?? [],
    egress: agent.egress ?? [],
    skills: agent.skills ?? [],
  };
}
