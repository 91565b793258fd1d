import type { SandboxLimits, SandboxSpec } from "./spec.js";

export interface McpServerSandbox {
  readonly nodePath: string;
  /** The unpacked, verified package with what it needs to run; read-only at /runtime/app. */
  readonly packageDir: string;
  /** Its bin, relative to packageDir. */
  readonly entry: string;
  /** A private directory of this server's, never an agent's workspace. */
  readonly workspaceDir: string;
  /** Empty, or (network approved) the directory of an egress broker's socket for this server. */
  readonly socketDir: string;
  readonly args: readonly string[];
  readonly limits?: SandboxLimits;
}

/**
 * The sandbox of a stdio MCP server: an agent's sandbox in every layer (namespaces with no network,
 * read-only root of node and its libraries, no capabilities, seccomp, rlimits, Node's permission
 * model, empty environment), holding the package instead of the agent runtime and none of the
 * agent's own things. The MCP broker launches it; the containment self-test probes the same spec.
 */
export function mcpServerSpec(server: McpServerSandbox): SandboxSpec {
  return {
    nodePath: server.nodePath,
    runtimeDir: server.packageDir,
    entry: server.entry,
    workspaceDir: server.workspaceDir,
    socketDir: server.socketDir,
    args: server.args,
    env: {},
    ...(server.limits === undefined ? {} : { limits: server.limits }),
  };
}
