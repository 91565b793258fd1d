import { existsSync } from "node:fs";
import { join } from "node:path";
import { agentNamed, type Gateway } from "@ironclaw/gateway";
import { type McpBroker, startMcpBroker } from "@ironclaw/mcp-broker";
import { packageDir } from "@ironclaw/package-store";
import { gatewayAuditSink } from "./audit-sink.js";
import { McpEgress } from "./mcp-egress.js";

export interface HostMcpOptions {
  readonly stateDir: string;
  readonly gateway: Gateway;
  readonly nodePath?: string;
  /** Extra roots for https MCP servers (a test's loopback server). */
  readonly ca?: readonly (string | Buffer)[];
  readonly lookup?: (hostname: string) => Promise<readonly { address: string; family: 4 | 6 }[]>;
}

/**
 * One MCP broker for every agent, reading the registry at each call: an agent sees the tools its
 * approved `mcp_servers` name, and a stdio server runs only from the package store's copy of a
 * package approved, by integrity, for that same agent. A stdio server approved with `network: true`
 * gets an egress broker of its own, started before the call that needs it (see McpEgress).
 */
export function startHostMcpBroker(options: HostMcpOptions): McpBroker {
  const { gateway, stateDir } = options;
  const egress = new McpEgress({
    stateDir,
    gateway,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  });
  const broker = startMcpBroker({
    servers: (agent) => agentNamed(gateway.registry, agent)?.mcpServers ?? [],
    audit: gatewayAuditSink(gateway),
    stdio: {
      ...(options.nodePath === undefined ? {} : { nodePath: options.nodePath }),
      packageDir: (pkg, agent) => {
        const approved = agentNamed(gateway.registry, agent)?.packages.find(
          (p) => `${p.name}@${p.version}` === pkg && p.integrity !== null,
        );
        if (approved?.integrity == null) return undefined;
        const dir = packageDir(stateDir, approved.integrity);
        return existsSync(join(dir, "package.json")) ? dir : undefined;
      },
      runDir: (agent, server) => join(stateDir, "agents", agent, "mcp", server),
      egressSocketDir: (agent, server) => egress.dir(agent, server),
    },
    http: {
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    },
  });
  return {
    async tools(agent) {
      await egress.sync(agent);
      return broker.tools(agent);
    },
    async call(agent, name, args) {
      await egress.sync(agent);
      return broker.call(agent, name, args);
    },
    async inspect(agent) {
      await egress.sync(agent);
      return broker.inspect(agent);
    },
    // A proposal is not approved: its server gets no egress broker, so one asking for network is refused.
    inspectProposed: (agent, server) => broker.inspectProposed(agent, server),
    async close() {
      await broker.close();
      await egress.close();
    },
  };
}
