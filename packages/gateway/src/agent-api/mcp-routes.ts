import { GatewayError } from "../errors.js";
import type { JsonValue } from "../json.js";

/** One MCP tool as the agent sees it: `mcp__<server>__<tool>`, its description and input schema. */
export interface McpToolView {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Readonly<Record<string, unknown>>;
}

/**
 * The MCP broker as the agent API needs it. Defined here and implemented by @ironclaw/mcp-broker,
 * which the gateway does not import: the host wires one into the other.
 */
export interface AgentMcp {
  tools(agent: string): Promise<readonly McpToolView[]>;
  /** `code` is set when the broker refused the call or the server failed (IC_MCP_…). */
  call(
    agent: string,
    name: string,
    args: unknown,
  ): Promise<{ readonly ok: boolean; readonly output: string; readonly code?: string }>;
}

const MAX_NAME = 128;

/**
 * GET /v1/tools/mcp and POST /v1/tools/mcp/call {name, arguments}; undefined for any other route.
 * The broker's answer is passed on whole with 200, refusals included (`ok: false` with `code`): the
 * agent's loop hands it to the model either way. Without a broker there are no MCP tools.
 */
export async function mcpRoute(
  mcp: AgentMcp | undefined,
  agent: string,
  method: string,
  path: string,
  body: JsonValue | undefined,
): Promise<[number, JsonValue] | undefined> {
  if (path === "/v1/tools/mcp") {
    if (method !== "GET") throw new GatewayError("IC_API_METHOD_NOT_ALLOWED", `expected GET ${path}`);
    const tools = mcp === undefined ? [] : await mcp.tools(agent);
    return [200, { tools: tools as unknown as JsonValue }];
  }
  if (path !== "/v1/tools/mcp/call") return undefined;
  if (method !== "POST") throw new GatewayError("IC_API_METHOD_NOT_ALLOWED", `expected POST ${path}`);
  const { name, args } = callOf(body);
  if (mcp === undefined) {
    const message = `no MCP tool named ${JSON.stringify(name)} is approved: no MCP servers are wired`;
    return [200, { ok: false, output: `IC_MCP_UNKNOWN_TOOL: ${message}`, code: "IC_MCP_UNKNOWN_TOOL" }];
  }
  const result = await mcp.call(agent, name, args);
  const answer: Record<string, JsonValue> = { ok: result.ok, output: result.output };
  if (result.code !== undefined) answer.code = result.code;
  return [200, answer];
}

function callOf(body: JsonValue | undefined): { name: string; args: JsonValue } {
  const bad = (message: string): never => {
    throw new GatewayError("IC_API_BAD_REQUEST", message);
  };
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return bad('expected a JSON object {"name": "mcp__<server>__<tool>", "arguments": {…}}');
  const fields = body as { readonly [key: string]: JsonValue };
  for (const key of Object.keys(fields))
    if (key !== "name" && key !== "arguments")
      bad(`expected only "name" and "arguments", found ${JSON.stringify(key)}`);
  const name = Object.hasOwn(fields, "name") ? fields.name : undefined;
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME)
    return bad(`expected "name" to be a tool name of at most ${MAX_NAME} characters`);
  const args = Object.hasOwn(fields, "arguments") ? fields.arguments : {};
  if (typeof args !== "object" || args === null || Array.isArray(args))
    return bad('expected "arguments" to be a JSON object');
  return { name, args: args as JsonValue };
}
