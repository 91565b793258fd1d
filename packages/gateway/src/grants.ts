import type { PermissionGrant } from "./changes/kinds.js";
import { GatewayError } from "./errors.js";
import { type AgentRecord, agentNamed, type Registry } from "./registry.js";

/**
 * What an agent may do at its API, read from the registry at each request: the approved `permissions`
 * and `wiring` changes, nothing else. Each refusal names the approval that is missing and the change
 * that would ask for it, so an agent (or its model) can request exactly that and nothing more.
 */
export function requireGrant(
  registry: Registry,
  agent: string,
  grant: PermissionGrant,
  action: string,
): AgentRecord {
  const record = agentNamed(registry, agent);
  if (record === undefined) {
    throw new GatewayError("IC_API_FORBIDDEN", `agent ${agent} does not exist, so it may not ${action}`);
  }
  if (!record.grants.includes(grant)) {
    // A permissions change replaces the list: the one to ask for keeps what the agent holds.
    const grants = JSON.stringify([...record.grants, grant].sort());
    throw new GatewayError(
      "IC_API_FORBIDDEN",
      `agent ${agent} lacks the approved permission ${grant}, so it may not ${action}; request a permissions change with grants ${grants} and wait for an operator to approve it`,
    );
  }
  return record;
}

export function hasGrant(registry: Registry, agent: string, grant: PermissionGrant): boolean {
  return agentNamed(registry, agent)?.grants.includes(grant) === true;
}

/**
 * Why `sender` may not message `to` now, or undefined. Wiring is checked before existence, so an
 * agent learns nothing about agents it was not wired to.
 */
export function peerMessageProblem(registry: Registry, sender: string, to: string): string | undefined {
  const record = agentNamed(registry, sender);
  if (record === undefined) return `agent ${sender} does not exist`;
  if (!record.grants.includes("messages.send")) {
    const grants = JSON.stringify([...record.grants, "messages.send"].sort());
    return `agent ${sender} lacks the approved permission messages.send, so it may not message other agents; request a permissions change with grants ${grants} and wait for an operator to approve it`;
  }
  if (to === sender) {
    return `an agent cannot message itself; to answer the operator, send {"text": …} without "to"`;
  }
  if (!record.peers.includes(to)) {
    const peers = JSON.stringify([...record.peers, to].sort());
    return `${to} is not among agent ${sender}'s approved peers, so it may not message it; request a wiring change with peers ${peers} and wait for an operator to approve it`;
  }
  if (agentNamed(registry, to) === undefined) return `no agent named ${to}`;
  return undefined;
}
