import type { McpServerApproval, McpToolApproval } from "./types.js";

/** The name the agent (and its model) sees: `mcp__<server>__<tool>`. */
export function fullToolName(server: string, tool: string): string {
  return `mcp__${server}__${tool}`;
}

export interface ApprovedTool {
  readonly server: McpServerApproval;
  readonly tool: McpToolApproval;
}

/**
 * Every approved tool by its full name, in a Map so a name like `constructor` or `__proto__` is only
 * a name. The gateway's schema keeps server names free of "__" so no two pairs share a full name;
 * should two ever collide here anyway, neither is callable.
 */
export function approvedTools(servers: readonly McpServerApproval[]): Map<string, ApprovedTool> {
  const byName = new Map<string, ApprovedTool>();
  const collided = new Set<string>();
  for (const server of servers) {
    for (const tool of server.tools) {
      const name = fullToolName(server.name, tool.name);
      if (byName.has(name)) collided.add(name);
      byName.set(name, { server, tool });
    }
  }
  for (const name of collided) byName.delete(name);
  return byName;
}
