import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type EgressBroker, startEgressBroker } from "@ironclaw/egress";
import { agentNamed, type Gateway } from "@ironclaw/gateway";
import { gatewayAuditSink } from "./audit-sink.js";

export interface McpEgressOptions {
  readonly stateDir: string;
  readonly gateway: Gateway;
  readonly ca?: readonly (string | Buffer)[];
}

/** The stdio servers approved for the agent with `network: true`, as the registry says now. */
function networked(gateway: Gateway, agent: string): Set<string> {
  const servers = agentNamed(gateway.registry, agent)?.mcpServers ?? [];
  return new Set(
    servers.filter((s) => s.transport.type === "stdio" && s.transport.network === true).map((s) => s.name),
  );
}

/**
 * One egress broker per stdio MCP server approved with `network: true`, in a directory holding only its
 * socket (bound into the server's sandbox at /run/ironclaw). The server reaches exactly what its agent
 * may reach: the agent's approved egress hosts, read at every request, and nothing once the server's
 * network approval is gone. Its requests are audited as the agent's, naming the server.
 */
export class McpEgress {
  readonly #options: McpEgressOptions;
  readonly #brokers = new Map<string, Promise<EgressBroker | undefined>>();
  readonly #ready = new Map<string, string>();
  #closed = false;

  constructor(options: McpEgressOptions) {
    this.#options = options;
  }

  /** The socket directory of a started broker for that server, else undefined (the server is refused). */
  dir(agent: string, server: string): string | undefined {
    return this.#ready.get(JSON.stringify([agent, server]));
  }

  /** Starts a broker for each networked server of the agent, and closes those no longer approved. */
  async sync(agent: string): Promise<void> {
    if (this.#closed) return;
    const wanted = networked(this.#options.gateway, agent);
    for (const [key, broker] of this.#brokers) {
      const [owner, server] = JSON.parse(key) as [string, string];
      if (owner !== agent || wanted.has(server)) continue;
      this.#brokers.delete(key);
      this.#ready.delete(key);
      await (await broker)?.close();
    }
    for (const server of wanted) {
      const key = JSON.stringify([agent, server]);
      if (!this.#brokers.has(key)) this.#brokers.set(key, this.#start(agent, server, key));
      await this.#brokers.get(key);
    }
  }

  async #start(agent: string, server: string, key: string): Promise<EgressBroker | undefined> {
    const { gateway, stateDir, ca } = this.#options;
    // Throws while the log cannot be written, so this broker stops serving rather than serve unaudited.
    const sink = gatewayAuditSink<{ readonly type: string; readonly mcpServer: string }>(gateway);
    const dir = join(stateDir, "agents", agent, "mcp-egress", server);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const broker = await startEgressBroker({
        socketPath: join(dir, "egress.sock"),
        agent,
        allowlist: () =>
          networked(gateway, agent).has(server) ? (agentNamed(gateway.registry, agent)?.egress ?? []) : [],
        audit: (event) => sink({ ...event, mcpServer: server }),
        ...(ca === undefined ? {} : { ca }),
      });
      this.#ready.set(key, dir);
      return broker;
    } catch (error) {
      // No broker, no network: the server is refused with IC_MCP_NETWORK_UNAVAILABLE, and that is audited.
      this.#brokers.delete(key);
      gateway.recordSecurityEvent({
        type: "mcp.egress_unavailable",
        agent,
        server,
        reason: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#brokers.values()];
    this.#brokers.clear();
    this.#ready.clear();
    await Promise.all(all.map(async (broker) => (await broker)?.close()));
  }
}
