import { chmod, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { statusForErrorCode } from "../api/error-status.js";
import { readJsonBody } from "../api/read-body.js";
import { parseRequestTarget } from "../api/request-target.js";
import { errorBody, sendJson } from "../api/respond.js";
import { GatewayError, isGatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import type { Principal } from "../principal.js";
import { type AgentMcp, mcpRoute } from "./mcp-routes.js";
import { RefusalAudit } from "./refusal-audit.js";
import { agentRoute } from "./routes.js";

export interface AgentApi {
  readonly socketPath: string;
  close(): Promise<void>;
}

export interface AgentApiOptions {
  readonly gateway: Gateway;
  readonly agent: string;
  readonly socketPath: string;
  /**
   * Called after the agent polled its inbox (GET /v1/messages) and nothing new was waiting: it is
   * between tasks, so a supervisor may restart it now without cutting one short.
   */
  readonly onIdle?: () => void;
  /** The MCP broker; without one the agent has no MCP tools. */
  readonly mcp?: AgentMcp;
  /** How refusals are audited; see RefusalAudit (tests shorten the window). */
  readonly refusalAudit?: { readonly perWindow?: number; readonly windowMs?: number };
}

const BODY_LIMIT = 64 * 1024;
const MAX_CONNECTIONS = 64;
/** Refusals that say an approval is missing; each is audited as a security event. */
const REFUSAL_CODES: ReadonlySet<string> = new Set(["IC_API_FORBIDDEN", "IC_CHANGE_FORBIDDEN"]);

/**
 * The agent's only line to the host: a unix socket bound into its sandbox. Who is calling is decided
 * by which socket the request came on, never by anything in the request.
 */
export async function startAgentApi(options: AgentApiOptions): Promise<AgentApi> {
  const { gateway, agent, socketPath } = options;
  const principal: Principal = Object.freeze({ id: `agent:${agent}`, role: "agent", agent });
  const audit = new RefusalAudit({
    agent,
    emit: (event) => gateway.recordSecurityEvent(event),
    ...(options.refusalAudit ?? {}),
  });
  const context: Context = { gateway, principal, agent, audit, onIdle: options.onIdle, mcp: options.mcp };
  const server = createServer({ maxHeaderSize: 16 * 1024 }, (request, response) => {
    handle(context, request, response).catch(() => response.destroy());
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // The gateway's file descriptors are shared by every agent and the operator: one agent's loop needs
  // a few connections at a time, so thousands are an attack and are closed as they arrive.
  server.maxConnections = MAX_CONNECTIONS;
  const auditFlush = setInterval(() => audit.flush(), options.refusalAudit?.windowMs ?? 60_000);
  auditFlush.unref();
  await rm(socketPath, { force: true });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
  } catch (error) {
    clearInterval(auditFlush);
    server.close();
    throw error;
  }
  return {
    socketPath,
    async close() {
      clearInterval(auditFlush);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      audit.flush();
      await rm(socketPath, { force: true });
    },
  };
}

interface Context {
  readonly gateway: Gateway;
  readonly principal: Principal;
  readonly agent: string;
  readonly audit: RefusalAudit;
  readonly onIdle: (() => void) | undefined;
  readonly mcp: AgentMcp | undefined;
}

async function handle(context: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { gateway, principal, agent } = context;
  const method = request.method ?? "";
  let path = "";
  try {
    const target = parseRequestTarget(request.url ?? "");
    path = target.path;
    const body = await readJsonBody(request, BODY_LIMIT);
    if (!gateway.ready) throw new GatewayError("IC_API_UNAVAILABLE", "the event log cannot be written");
    const mcpAnswer = await mcpRoute(context.mcp, agent, method, path, body);
    if (mcpAnswer !== undefined) {
      sendJson(response, mcpAnswer[0], mcpAnswer[1]);
      return;
    }
    const answer = await agentRoute({ gateway, principal, agent, method, path, query: target.query, body });
    sendJson(response, answer.status, answer.body);
    if (answer.idle === true) {
      try {
        context.onIdle?.();
      } catch {
        // The supervisor's listener must not break the agent's API.
      }
    }
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    if (REFUSAL_CODES.has(error.code)) {
      context.audit.note({ method, path, code: error.code, reason: error.message });
    }
    sendJson(response, statusForErrorCode(error.code), errorBody(error.code, error.message));
  }
}
