import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  ListToolsResultSchema,
  McpError,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { isMcpBrokerError, McpBrokerError } from "./errors.js";
import { egressFetch } from "./http-fetch.js";
import type { Limits } from "./limits.js";
import { launchStdioServer, STDIO_SANDBOX_LIMITS } from "./stdio-launch.js";
import { SandboxStdioTransport } from "./stdio-transport.js";
import type { McpBrokerOptions, McpServerApproval } from "./types.js";

const CLIENT_INFO = { name: "ironclaw-mcp-broker", version: "0.1.0" };

/** One MCP client connected to one approved server on behalf of one agent. */
export class ServerSession {
  private open = true;
  private idle: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: Client,
    private readonly transport: Transport,
    private readonly limits: Limits,
    private readonly failureOf: () => McpBrokerError | undefined,
  ) {}

  /** Connects and shakes hands; refused or failed with a typed error, the transport closed behind it. */
  static async connect(
    agent: string,
    approval: McpServerApproval,
    options: McpBrokerOptions,
    limits: Limits,
  ): Promise<ServerSession> {
    let failure: McpBrokerError | undefined;
    let closeTransport = () => {};
    // A refused or overlong exchange ends the session at once, so the request it carried fails now
    // with this reason rather than at its timeout.
    const note = (error: McpBrokerError) => {
      failure ??= error;
      closeTransport();
    };
    const transport = await openTransport(agent, approval, options, limits, note);
    closeTransport = () => {
      transport.close().catch(() => {});
    };
    const failureOf = () =>
      failure ?? (transport instanceof SandboxStdioTransport ? transport.failure : undefined);
    // No capabilities: a server's requests (sampling, roots, elicitation) are answered "method not found".
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    try {
      await client.connect(transport, { timeout: limits.connectTimeoutMs });
    } catch (error) {
      await transport.close().catch(() => {});
      throw typed(error, failureOf(), "connecting to the server");
    }
    const session = new ServerSession(client, transport, limits, failureOf);
    client.onclose = () => {
      session.open = false;
      clearTimeout(session.idle);
    };
    session.touch();
    return session;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Restarts the idle timer: an unused session is closed, and remade when it is next needed. */
  private touch(): void {
    clearTimeout(this.idle);
    if (!this.open) return;
    this.idle = setTimeout(() => void this.close(), this.limits.idleMs);
    this.idle.unref();
  }

  /** Every tool the server offers, all pages, bounded in count, pages and time. */
  async listTools(): Promise<Tool[]> {
    this.touch();
    const tools: Tool[] = [];
    const deadline = Date.now() + this.limits.listTimeoutMs;
    let cursor: string | undefined;
    for (let page = 0; page < this.limits.pages; page++) {
      const timeout = Math.max(1, deadline - Date.now());
      const result = await this.client
        .request(
          { method: "tools/list", params: cursor === undefined ? {} : { cursor } },
          ListToolsResultSchema,
          { timeout, maxTotalTimeout: timeout },
        )
        .catch((error: unknown) => {
          throw this.failed(error, "listing the server's tools");
        });
      tools.push(...result.tools);
      if (tools.length > this.limits.tools)
        throw this.failed(
          new McpBrokerError("IC_MCP_RESPONSE_TOO_LARGE", `expected at most ${this.limits.tools} tools`),
          "listing the server's tools",
        );
      cursor = result.nextCursor;
      if (cursor === undefined) return tools;
    }
    throw this.failed(
      new McpBrokerError(
        "IC_MCP_RESPONSE_TOO_LARGE",
        `expected the tool list in at most ${this.limits.pages} pages`,
      ),
      "listing the server's tools",
    );
  }

  async callTool(name: string, args: Readonly<Record<string, unknown>>): Promise<CallToolResult> {
    this.touch();
    const timeout = this.limits.callTimeoutMs;
    return this.client
      .request({ method: "tools/call", params: { name, arguments: args } }, CallToolResultSchema, {
        timeout,
        maxTotalTimeout: timeout,
      })
      .catch((error: unknown) => {
        throw this.failed(error, `calling ${name}`);
      })
      .finally(() => this.touch());
  }

  async close(): Promise<void> {
    this.open = false;
    clearTimeout(this.idle);
    await this.client.close().catch(() => {});
    await this.transport.close().catch(() => {});
  }

  /** A failure ends the session unless it was the server's own JSON-RPC error answer. */
  private failed(error: unknown, doing: string): McpBrokerError {
    const result = typed(error, this.failureOf(), doing);
    if (result.code !== "IC_MCP_PROTOCOL" || !(error instanceof McpError)) void this.close();
    return result;
  }
}

async function openTransport(
  agent: string,
  approval: McpServerApproval,
  options: McpBrokerOptions,
  limits: Limits,
  note: (error: McpBrokerError) => void,
): Promise<Transport> {
  const { transport } = approval;
  if (transport.type === "http") {
    const fetch = egressFetch({
      ...options.http,
      url: transport.url,
      ipLiteral: transport.ipLiteral === true,
      maxResponseBytes: limits.messageBytes,
      exchangeTimeoutMs:
        Math.max(limits.callTimeoutMs, limits.listTimeoutMs, limits.connectTimeoutMs) + 1_000,
      onFailure: note,
    });
    return new StreamableHTTPClientTransport(new URL(transport.url), {
      fetch,
      // No retries behind the broker's back: a failed exchange fails the call it belongs to.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1,
        maxReconnectionDelay: 1,
        reconnectionDelayGrowFactor: 1,
      },
    });
  }
  const stdio = options.stdio;
  if (stdio === undefined)
    throw new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", "this broker was started without stdio servers");
  const packageDir = stdio.packageDir(transport.package, agent);
  if (packageDir === undefined)
    throw new McpBrokerError(
      "IC_MCP_PACKAGE_INVALID",
      `the package ${transport.package} is not in the package store; approve and install it first`,
    );
  let egressSocketDir: string | undefined;
  if (transport.network === true) {
    egressSocketDir = stdio.egressSocketDir?.(agent, approval.name);
    if (egressSocketDir === undefined)
      throw new McpBrokerError(
        "IC_MCP_NETWORK_UNAVAILABLE",
        `server ${approval.name} is approved with network, but no egress broker was started for it`,
      );
  }
  const at = transport.package.lastIndexOf("@");
  const child = await launchStdioServer({
    nodePath: stdio.nodePath ?? process.execPath,
    packageDir,
    packageName: transport.package.slice(0, at),
    command: transport.command,
    args: transport.args ?? [],
    runDir: stdio.runDir(agent, approval.name),
    egressSocketDir,
    limits: stdio.limits ?? STDIO_SANDBOX_LIMITS,
  });
  return new SandboxStdioTransport(child, limits.messageBytes);
}

/** One typed error for whatever the SDK, the transport or the fetch threw. */
function typed(error: unknown, failure: McpBrokerError | undefined, doing: string): McpBrokerError {
  if (isMcpBrokerError(error)) return error;
  if (failure !== undefined) return new McpBrokerError(failure.code, `${doing}: ${failure.message}`);
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout)
      return new McpBrokerError("IC_MCP_TIMEOUT", `${doing}: the server did not answer in time`);
    if (error.code === ErrorCode.ConnectionClosed)
      return new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", `${doing}: the server closed the connection`);
    return new McpBrokerError("IC_MCP_PROTOCOL", `${doing}: the server answered an error: ${error.message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", `${doing}: ${message.slice(0, 512)}`);
}
