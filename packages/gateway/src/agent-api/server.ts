import { chmod, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { statusForErrorCode } from "../api/error-status.js";
import { readJsonBody } from "../api/read-body.js";
import { parseRequestTarget } from "../api/request-target.js";
import { errorBody, sendJson } from "../api/respond.js";
import { GatewayError, isGatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import type { JsonValue } from "../json.js";
import type { Principal } from "../principal.js";

export interface AgentApi {
  readonly socketPath: string;
  close(): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

/**
 * The agent's only line to the host: a unix socket bound into its sandbox. Who is calling is decided
 * by which socket the request came on, never by anything in the request.
 */
export async function startAgentApi(options: {
  readonly gateway: Gateway;
  readonly agent: string;
  readonly socketPath: string;
}): Promise<AgentApi> {
  const { gateway, agent, socketPath } = options;
  const principal: Principal = Object.freeze({ id: `agent:${agent}`, role: "agent", agent });
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    handle(gateway, principal, request, response).catch(() => response.destroy());
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

async function handle(
  gateway: Gateway,
  principal: Principal,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    const { path, query } = parseRequestTarget(request.url ?? "");
    const body = await readJsonBody(request, BODY_LIMIT);
    const [status, answer] = await route(gateway, principal, request.method ?? "", path, query, body);
    sendJson(response, status, answer);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    sendJson(response, statusForErrorCode(error.code), errorBody(error.code, error.message));
  }
}

function afterParam(query: URLSearchParams): number {
  const raw = query.get("after") ?? "0";
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw)) {
    throw new GatewayError("IC_CHANGE_INVALID", `after must be a record number, not ${raw}`);
  }
  return Number(raw);
}

async function route(
  gateway: Gateway,
  principal: Principal,
  method: string,
  path: string,
  query: URLSearchParams,
  body: JsonValue | undefined,
): Promise<[number, JsonValue]> {
  const agent = principal.agent as string;
  if (!gateway.ready) throw new GatewayError("IC_API_UNAVAILABLE", "the event log cannot be written");
  if (method === "GET" && path === "/v1/self") {
    // Skills as the agent sees them: what each says (verified, from the skill store), not where it came from.
    const record = await gateway.agentView(agent);
    if (record === undefined) throw new GatewayError("IC_API_NOT_FOUND", `agent ${agent} does not exist`);
    return [200, { agent: record as unknown as JsonValue }];
  }
  if (method === "GET" && path === "/v1/messages") {
    return [
      200,
      { messages: gateway.messages(principal, agent, "in", afterParam(query)) as unknown as JsonValue },
    ];
  }
  if (method === "POST" && path === "/v1/messages") {
    return [201, { message: (await gateway.sendMessage(principal, agent, body)) as unknown as JsonValue }];
  }
  if (method === "POST" && path === "/v1/changes") {
    const result = await gateway.submit(principal, body);
    return [result.refusal === undefined ? 201 : 422, result as unknown as JsonValue];
  }
  const change = /^\/v1\/changes\/(c[1-9][0-9]{0,9})$/.exec(path);
  if (method === "GET" && change !== null) {
    return [200, { change: gateway.show(principal, change[1] as string) as unknown as JsonValue }];
  }
  throw new GatewayError("IC_API_NOT_FOUND", `no route ${method} ${path}`);
}
