import type { SandboxLimits } from "@ironclaw/sandbox";

/** One tool an `mcp_servers` change approved: its name on the server and the digest of its face. */
export interface McpToolApproval {
  readonly name: string;
  readonly digest: string;
}

export type McpTransportApproval =
  | { readonly type: "http"; readonly url: string; readonly ipLiteral?: true | undefined }
  | {
      readonly type: "stdio";
      /** `<npm name>@<exact version>`, approved by a `packages` change. */
      readonly package: string;
      /** A name in the package's `bin`. */
      readonly command: string;
      readonly args?: readonly string[] | undefined;
      readonly network?: true | undefined;
    };

/** One approved server, as the registry's `mcpServers` holds it (which this type accepts as it is). */
export interface McpServerApproval {
  readonly name: string;
  readonly transport: McpTransportApproval;
  readonly tools: readonly McpToolApproval[];
}

/** What the agent is shown of one approved tool whose live digest matches. */
export interface McpToolView {
  /** `mcp__<server>__<tool>`. */
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/** A call's answer. `code` is set when the broker refused or the server failed, never for a tool's own error. */
export interface McpCallResult {
  readonly ok: boolean;
  readonly output: string;
  readonly code?: string;
}

/**
 * One per call the agent makes, allowed or refused. Never holds the arguments or the result (they may
 * carry secrets): the digest of the canonical arguments and the result's size stand for them.
 */
export interface McpAuditEvent {
  readonly type: "mcp.call";
  readonly agent: string;
  /** "" when the name the agent called matches no approved tool. */
  readonly server: string;
  /** The tool's name on the server, or the whole name the agent called when it matched none. */
  readonly tool: string;
  /** sha256 of JCS(arguments); null when they were not JSON the broker could canonicalise. */
  readonly argumentsDigest: string | null;
  readonly durationMs: number;
  /** UTF-8 bytes of the server's result as received; 0 when there was none. */
  readonly resultBytes: number;
  readonly decision: "allowed" | "refused";
  /** "ok", "tool_error" (the tool said isError), or the IC_MCP_… code of the refusal or failure. */
  readonly reason: string;
  /** Only on the record of reason IC_MCP_REFUSALS_COUNTED: how many refusals it stands for. */
  readonly count?: number;
}

export interface McpLimits {
  /** Connecting and the MCP handshake (default 15 s). */
  readonly connectTimeoutMs?: number;
  /** One tools/list round, all pages (default 10 s). */
  readonly listTimeoutMs?: number;
  /** One tools/call (default 20 s; the agent API gives up on a request at 30 s). */
  readonly callTimeoutMs?: number;
  /** One JSON-RPC message or HTTP response body from the server (default 1 MiB). */
  readonly messageBytes?: number;
  /** The output handed to the agent; longer output is cut and says so (default 64 KiB). */
  readonly outputBytes?: number;
  /** One tool's canonical {name, description, inputSchema} (default 64 KiB). */
  readonly toolFaceBytes?: number;
  /** A session unused this long is closed, a stdio server's sandbox with it (default 10 min). */
  readonly idleMs?: number;
  /** Refused calls that reached no server, audited one by one per agent and window (default 32). */
  readonly refusalsPerWindow?: number;
  /** That window (default 60 s). */
  readonly refusalWindowMs?: number;
  /** Tools read from one server, all pages together (default 512), and pages (default 16). */
  readonly tools?: number;
  readonly pages?: number;
}

export interface McpStdioOptions {
  /** The host's node binary, the only program in the server's sandbox (default process.execPath). */
  readonly nodePath?: string;
  /**
   * The directory holding the unpacked, verified package `<name>@<version>` with what it needs to
   * run (its dependencies under node_modules, or bundled): the package store's <state>/packages/<hash>/.
   * Undefined when the package is not there, or not approved for that agent: the server is then refused.
   */
  readonly packageDir: (pkg: string, agent: string) => string | undefined;
  /** A private directory per agent and server, for the server's writable /workspace. */
  readonly runDir: (agent: string, server: string) => string;
  /**
   * For `network: true` only: a directory holding only `egress.sock`, an egress broker started for
   * this server (bound read-only at /run/ironclaw). Without it a `network: true` server is refused.
   */
  readonly egressSocketDir?: (agent: string, server: string) => string | undefined;
  readonly limits?: SandboxLimits;
}

export interface McpHttpOptions {
  /** Default: dns.promises.lookup(host, { all: true, verbatim: true }). */
  readonly lookup?: (hostname: string) => Promise<readonly { address: string; family: 4 | 6 }[]>;
  /** Trusted in addition to Node's default roots. */
  readonly ca?: readonly (string | Buffer)[];
}

export interface McpBrokerOptions {
  /** Read at every tools() and call(): the registry's current `mcpServers` of that agent. */
  readonly servers: (agent: string) => readonly McpServerApproval[];
  /** Called exactly once per call. If it throws, the call is refused and so is every later one. */
  readonly audit: (event: McpAuditEvent) => void;
  readonly stdio?: McpStdioOptions;
  readonly http?: McpHttpOptions;
  readonly limits?: McpLimits;
}

/** The broker as the agent API sees it (the gateway's AgentMcp), plus inspect and close for the host. */
export interface McpBroker {
  tools(agent: string): Promise<McpToolView[]>;
  call(agent: string, name: string, args: unknown): Promise<McpCallResult>;
  /** For the operator: every tool each approved server offers, its live digest and how it stands. */
  inspect(agent: string): Promise<McpServerReport[]>;
  /**
   * For the operator, before approving: the same report for a proposed server, over a session of its
   * own that is closed after. Only an operator's request may lead here: it dials the proposal's URL
   * (under the egress rules) or starts its package (in its sandbox).
   */
  inspectProposed(agent: string, server: McpServerApproval): Promise<McpServerReport>;
  close(): Promise<void>;
}

export type McpToolState =
  | "approved"
  | "not_approved"
  | "digest_mismatch"
  | "schema_unsupported"
  | "not_offered";

export interface McpServerReport {
  readonly server: string;
  /** Set when the server could not be reached or read. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly tools: readonly {
    /** As the server spells it; JSON.stringify it before showing it to a person. */
    readonly name: string;
    readonly state: McpToolState;
    /** The live digest, to approve in a new change; null when the tool is not offered. */
    readonly digest: string | null;
    readonly detail?: string;
  }[];
}
