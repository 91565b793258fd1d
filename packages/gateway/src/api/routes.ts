import { CHANGE_STATES, type Change, type ChangeState } from "../changes/change.js";
import { GatewayError } from "../errors.js";
import type { Gateway } from "../gateway.js";
import type { JsonValue } from "../json.js";
import type { Role } from "../principal.js";
import { agentNamed } from "../registry.js";
import type { ApiHandler, ApiRequest, ApiResponse } from "./types.js";

interface Route {
  readonly method: "GET" | "POST";
  readonly pattern: RegExp;
  /** Who may call it at all; the gateway checks again, and narrows what an agent sees. */
  readonly roles: readonly Role[];
  handle(gateway: Gateway, request: ApiRequest, params: readonly string[]): Promise<ApiResponse>;
}

const ID = "(c[1-9][0-9]{0,9})";
const AUDIT_PAGE_MAX = 1000;
const CHANGES_PAGE_MAX = 1000;
const CHANGES_PAGE_DEFAULT = 100;

const json = (status: number, body: unknown): ApiResponse => ({ status, body: body as JsonValue });
const changeView = (change: Change) => ({ ...change, held: change.state === "pending" });

function integerParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || Number(raw) > max) {
    throw new GatewayError(
      "IC_CHANGE_INVALID",
      `query ${name} must be an integer from 0 to ${max}, not ${raw}`,
    );
  }
  return Number(raw);
}

/** `after`: a change id (c12) or its number; the page starts after it. */
function afterParam(query: URLSearchParams): number {
  const raw = query.get("after");
  if (raw === null) return 0;
  const match = /^c?(0|[1-9][0-9]{0,9})$/.exec(raw);
  if (match === null) {
    throw new GatewayError("IC_CHANGE_INVALID", `after must be a change id such as c12, not ${raw}`);
  }
  return Number(match[1]);
}

function stateParam(query: URLSearchParams): ChangeState | undefined {
  const raw = query.get("state");
  if (raw === null) return undefined;
  // What `changes list` shows a pending change as.
  if (raw === "held") return "pending";
  if (!(CHANGE_STATES as readonly string[]).includes(raw)) {
    throw new GatewayError(
      "IC_CHANGE_INVALID",
      `state must be one of ${CHANGE_STATES.join(", ")} (or held, for pending), not ${raw}`,
    );
  }
  return raw as ChangeState;
}

const ROUTES: readonly Route[] = [
  {
    method: "POST",
    pattern: /^\/v1\/changes$/,
    roles: ["operator", "agent"],
    async handle(gateway, request) {
      const result = await gateway.submit(request.principal, request.body);
      if (result.refusal !== undefined) {
        return json(422, {
          error: {
            code: "IC_CHANGE_REJECTED_BY_VERIFIER",
            message: `verifier ${result.refusal.verifier} refused the change: ${result.refusal.reason}`,
          },
          change: changeView(result.change),
        });
      }
      return json(201, { change: changeView(result.change) });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/changes$/,
    roles: ["operator", "viewer", "agent"],
    async handle(gateway, request) {
      const state = stateParam(request.query);
      const after = afterParam(request.query);
      const limit = integerParam(request.query, "limit", CHANGES_PAGE_DEFAULT, CHANGES_PAGE_MAX);
      const changes = gateway.list(request.principal, state === undefined ? {} : { state });
      // Ids count up in submission order, which is the list's order: a page is a slice after the cursor.
      const rest = changes.filter((change) => Number(change.id.slice(1)) > after);
      const page = rest.slice(0, limit);
      const next = rest.length > page.length ? (page.at(-1)?.id ?? null) : null;
      return json(200, { changes: page.map(changeView), next });
    },
  },
  {
    method: "GET",
    pattern: new RegExp(`^/v1/changes/${ID}$`),
    roles: ["operator", "viewer", "agent"],
    async handle(gateway, request, [id]) {
      const change = gateway.show(request.principal, id as string);
      // A skills change also says what each skill needs and which of those tools the agent lacks.
      const skills = await gateway.skillNotes(change);
      return json(200, { change: { ...changeView(change), ...(skills === undefined ? {} : { skills }) } });
    },
  },
  ...(["approve", "reject", "cancel", "retry"] as const).map(
    (action): Route => ({
      method: "POST",
      pattern: new RegExp(`^/v1/changes/${ID}/${action}$`),
      roles: action === "cancel" ? ["operator", "agent"] : ["operator"],
      async handle(gateway, request, [id]) {
        const change = await gateway[action](request.principal, id as string, request.body);
        return json(200, { change: changeView(change) });
      },
    }),
  ),
  {
    method: "GET",
    pattern: /^\/v1\/audit$/,
    roles: ["operator", "viewer"],
    async handle(gateway, request) {
      const after = integerParam(request.query, "after", 0, Number.MAX_SAFE_INTEGER);
      const limit = integerParam(request.query, "limit", 100, AUDIT_PAGE_MAX);
      const records = await gateway.audit(after, limit);
      const last = records.at(-1);
      return json(200, { records, next: last === undefined ? null : last.seq, head: gateway.head });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/audit\/head$/,
    roles: ["operator", "viewer"],
    async handle(gateway) {
      return json(200, { checkpoint: gateway.signHead(), publicKey: gateway.publicKeyPem() });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/audit\/checkpoints$/,
    roles: ["operator", "viewer"],
    async handle(gateway) {
      return json(200, { checkpoints: await gateway.checkpoints(), publicKey: gateway.publicKeyPem() });
    },
  },
  {
    method: "POST",
    pattern: /^\/v1\/agents\/([a-z][a-z0-9-]{0,31})\/messages$/,
    roles: ["operator"],
    async handle(gateway, request, [name]) {
      return json(201, {
        message: await gateway.sendMessage(request.principal, name as string, request.body),
      });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/agents\/([a-z][a-z0-9-]{0,31})\/messages$/,
    roles: ["operator", "viewer"],
    async handle(gateway, request, [name]) {
      const direction = request.query.get("direction") ?? "out";
      if (direction !== "in" && direction !== "out") {
        throw new GatewayError("IC_CHANGE_INVALID", `direction must be in or out, not ${direction}`);
      }
      const after = integerParam(request.query, "after", 0, Number.MAX_SAFE_INTEGER);
      return json(200, { messages: gateway.messages(request.principal, name as string, direction, after) });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/registry$/,
    roles: ["operator", "viewer"],
    async handle(gateway) {
      return json(200, { registry: gateway.registry });
    },
  },
  {
    method: "GET",
    pattern: /^\/v1\/registry\/agents\/([a-z][a-z0-9-]{0,31})$/,
    roles: ["operator", "viewer", "agent"],
    async handle(gateway, request, [name]) {
      if (request.principal.role === "agent" && request.principal.agent !== name) {
        throw new GatewayError("IC_API_FORBIDDEN", `${request.principal.id} may read only its own agent`);
      }
      const agent = agentNamed(gateway.registry, name as string);
      if (agent === undefined) throw new GatewayError("IC_API_NOT_FOUND", `no agent named ${name}`);
      return json(200, { agent });
    },
  },
];

/** The route table over a gateway: read-only views and the change lifecycle, nothing else. */
export function gatewayRoutes(gateway: Gateway): ApiHandler {
  return async (request) => {
    const matching = ROUTES.filter((route) => route.pattern.test(request.path));
    if (matching.length === 0) throw new GatewayError("IC_API_NOT_FOUND", `no route ${request.path}`);
    const route = matching.find((r) => r.method === request.method);
    if (route === undefined) {
      throw new GatewayError(
        "IC_API_METHOD_NOT_ALLOWED",
        `${request.path} takes ${matching.map((r) => r.method).join(", ")}, not ${request.method}`,
      );
    }
    if (!route.roles.includes(request.principal.role)) {
      throw new GatewayError(
        "IC_API_FORBIDDEN",
        `${request.principal.role} may not ${request.method} ${request.path}`,
      );
    }
    if (!gateway.ready) throw new GatewayError("IC_API_UNAVAILABLE", "the event log cannot be written");
    const params = (route.pattern.exec(request.path) ?? []).slice(1);
    return route.handle(gateway, request, params);
  };
}
