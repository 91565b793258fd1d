import type { AgentMessage } from "../changes/fold.js";
import { GatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import { hasGrant } from "../grants.js";
import type { JsonValue } from "../json.js";
import type { Principal } from "../principal.js";

export interface AgentRequest {
  readonly gateway: Gateway;
  readonly principal: Principal;
  /** The agent the socket belongs to. */
  readonly agent: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: JsonValue | undefined;
}

export interface AgentAnswer {
  readonly status: number;
  readonly body: JsonValue;
  /** A poll of the inbox that found nothing new: the agent is between tasks. */
  readonly idle?: true;
}

function afterParam(query: URLSearchParams): number {
  const raw = query.get("after") ?? "0";
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw)) {
    throw new GatewayError("IC_CHANGE_INVALID", `after must be a record number, not ${raw}`);
  }
  return Number(raw);
}

/** Messages from the operator always; from peer agents only with `messages.read`, read at each poll. */
function inbox(request: AgentRequest): AgentMessage[] {
  const { gateway, principal, agent, query } = request;
  const all = gateway.messages(principal, agent, "in", afterParam(query));
  if (hasGrant(gateway.registry, agent, "messages.read")) return all;
  return all.filter((message) => !message.from.startsWith("agent:"));
}

/** `{text}` answers the operator; `{to, text}` is for a peer agent and needs its own approvals. */
function postMessage(request: AgentRequest): Promise<AgentMessage> {
  const { gateway, principal, agent, body } = request;
  const toPeer =
    typeof body === "object" && body !== null && !Array.isArray(body) && Object.hasOwn(body, "to");
  return toPeer ? gateway.sendPeerMessage(principal, body) : gateway.sendMessage(principal, agent, body);
}

/**
 * The agent API's routes. Grants are enforced where the state they depend on is: `changes.request` in
 * `Gateway.submit` (for every API an agent can reach), `messages.send` and wiring in
 * `Gateway.sendPeerMessage`, `messages.read` here, at each read.
 */
export async function agentRoute(request: AgentRequest): Promise<AgentAnswer> {
  const { gateway, principal, agent, method, path, body } = request;
  if (method === "GET" && path === "/v1/self") {
    // Skills as the agent sees them: what each says (verified, from the skill store), not where it came from.
    const record = await gateway.agentView(agent);
    if (record === undefined) throw new GatewayError("IC_API_NOT_FOUND", `agent ${agent} does not exist`);
    return { status: 200, body: { agent: record as unknown as JsonValue } };
  }
  if (method === "GET" && path === "/v1/messages") {
    const messages = inbox(request);
    return {
      status: 200,
      body: { messages: messages as unknown as JsonValue },
      ...(messages.length === 0 ? { idle: true as const } : {}),
    };
  }
  if (method === "POST" && path === "/v1/messages") {
    return { status: 201, body: { message: (await postMessage(request)) as unknown as JsonValue } };
  }
  if (method === "POST" && path === "/v1/changes") {
    const result = await gateway.submit(principal, body);
    return { status: result.refusal === undefined ? 201 : 422, body: result as unknown as JsonValue };
  }
  const change = /^\/v1\/changes\/(c[1-9][0-9]{0,9})$/.exec(path);
  if (method === "GET" && change !== null) {
    return {
      status: 200,
      body: { change: gateway.show(principal, change[1] as string) as unknown as JsonValue },
    };
  }
  throw new GatewayError("IC_API_NOT_FOUND", `no route ${method} ${path}`);
}
