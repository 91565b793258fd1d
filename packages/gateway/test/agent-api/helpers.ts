import { request } from "node:http";
import { join } from "node:path";
import { type AgentApi, type AgentApiOptions, startAgentApi } from "../../src/agent-api/server.js";
import { Gateway, type GatewayOptions } from "../../src/gateway.js";
import type { LogRecord } from "../../src/log/index.js";
import { OPERATOR } from "../helpers.js";

export interface Reply {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** One request over an agent API's unix socket, as the agent in the sandbox makes it (or forges it, with `headers`). */
export function call(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers: {
          ...headers,
          ...(data === undefined
            ? {}
            : { "content-type": "application/json", "content-length": String(Buffer.byteLength(data)) }),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

export interface World {
  readonly dir: string;
  readonly gateway: Gateway;
  /** Each agent's API, by name. */
  readonly apis: Map<string, AgentApi>;
  /** Submits as the operator and approves what it was shown; returns the change (or the refusal). */
  approve(kind: string, payload: Record<string, unknown>): Promise<void>;
  /** The security events the agent APIs wrote, read back from the log. */
  refusals(): Promise<LogRecord[]>;
  close(): Promise<void>;
}

/** A gateway in a fresh state directory, the agents created by approved changes, and an API for each. */
export async function world(
  dir: string,
  agents: readonly string[],
  options: Partial<GatewayOptions> = {},
  apiOptions: (agent: string) => Partial<AgentApiOptions> = () => ({}),
): Promise<World> {
  const gateway = await Gateway.open({ stateDir: dir, pendingCap: 1000, pendingTotalCap: 1000, ...options });
  const approve = async (kind: string, payload: Record<string, unknown>) => {
    const { change, refusal } = await gateway.submit(OPERATOR, { kind, payload });
    if (refusal !== undefined) throw new Error(`${kind} refused: ${refusal.reason}`);
    const applied = await gateway.approve(OPERATOR, change.id, { digest: change.digest });
    if (applied.state !== "applied") throw new Error(`${kind} is ${applied.state}`);
  };
  for (const agent of agents) await approve("create_agent", { agent });
  const apis = new Map<string, AgentApi>();
  for (const agent of agents) {
    apis.set(
      agent,
      await startAgentApi({ gateway, agent, socketPath: join(dir, `${agent}.sock`), ...apiOptions(agent) }),
    );
  }
  return {
    dir,
    gateway,
    apis,
    approve,
    async refusals() {
      return (await gateway.audit(0, 10_000)).filter((r) => r.type === "agent_api.refused");
    },
    async close() {
      for (const api of apis.values()) await api.close();
      await gateway.close();
    },
  };
}

export function socketOf(w: World, agent: string): string {
  const api = w.apis.get(agent);
  if (api === undefined) throw new Error(`no API for ${agent}`);
  return api.socketPath;
}
