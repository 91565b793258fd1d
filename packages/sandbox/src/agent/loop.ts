import { setTimeout as sleep } from "node:timers/promises";
import type { Channels } from "./channels.js";
import type { HostApi } from "./host-api.js";
import { inputProblem, type ObjectSchema } from "./input-schema.js";
import {
  type Block,
  complete,
  type Message,
  ModelUnavailable,
  NO_MODEL,
  type ToolOffer,
} from "./model-client.js";
import { type AgentSelf, readSelf } from "./self.js";
import { systemPrompt } from "./system-prompt.js";
import { COMPILED_TOOLS, mcpTool, REQUEST_CHANGE, type ToolResult, type ToolSpec } from "./tools.js";

/** How far one task may go: each bound ends the task with a reply that says which one was hit. */
export interface LoopLimits {
  readonly maxSteps: number;
  readonly maxTokens: number;
  /** Wall time of the task, not counting the wait for a human's decision. */
  readonly wallMs: number;
  readonly approvalWaitMs: number;
  readonly pollMs: number;
  readonly modelTimeoutMs: number;
}

export const DEFAULT_LIMITS: LoopLimits = Object.freeze({
  maxSteps: 12,
  maxTokens: 200_000,
  wallMs: 5 * 60_000,
  approvalWaitMs: 60 * 60_000,
  pollMs: 100,
  modelTimeoutMs: 120_000,
});

export interface LoopEnv {
  readonly channels: Channels;
  readonly api: HostApi;
  readonly agent: string;
  readonly workspace: string;
  readonly limits: LoopLimits;
}

/** A message the agent was given: from its operator, or from a wired peer as `agent:<name>`. */
export interface Inbound {
  readonly from: string;
  readonly text: string;
}

/** The tools this agent has at this moment: the registry's list, plus the one way to ask for more. */
export function toolTable(self: AgentSelf): Map<string, ToolSpec> {
  const table = new Map<string, ToolSpec>();
  for (const name of [...self.tools].sort()) {
    if (Object.hasOwn(COMPILED_TOOLS, name)) table.set(name, COMPILED_TOOLS[name] as ToolSpec);
  }
  table.set("request_change", REQUEST_CHANGE);
  return table;
}

/** The tool table with the approved MCP tools the host's broker lists now (none without servers). */
async function currentTools(env: LoopEnv, self: AgentSelf): Promise<ReadonlyMap<string, ToolSpec>> {
  const table = toolTable(self);
  if ((self.mcpServers ?? []).length === 0) return table;
  const { tools } = (await env.api.call("GET", "/v1/tools/mcp")).body as {
    tools?: { name: string; description: string; inputSchema: Record<string, unknown> }[];
  };
  for (const tool of tools ?? []) {
    if (tool.name.startsWith("mcp__") && !table.has(tool.name))
      table.set(tool.name, mcpTool(tool.name, tool.description, tool.inputSchema));
  }
  return table;
}

function offers(table: ReadonlyMap<string, ToolSpec>): ToolOffer[] {
  return [...table].map(([name, spec]) => ({
    name,
    description: spec.description,
    inputSchema: spec.inputSchema,
  }));
}

function userTurn(message: Inbound): string {
  return message.from.startsWith("agent:")
    ? `A message from the agent ${message.from.slice("agent:".length)} (a peer, not your operator):\n${message.text}`
    : message.text;
}

type ToolCall = Extract<Block, { type: "tool_call" }>;

/** Runs one tool call against the registry as it is now, not as it was when the model was asked. */
async function callTool(env: LoopEnv, call: ToolCall): Promise<ToolResult> {
  const spec = (await currentTools(env, await readSelf(env.api))).get(call.name);
  if (spec === undefined)
    return {
      ok: false,
      output: `the tool ${call.name} is not enabled for you; ask for it with request_change (kind enabled_tools)`,
    };
  const problem = spec.checkedByHost ? undefined : inputProblem(spec.inputSchema as ObjectSchema, call.input);
  if (problem !== undefined) return { ok: false, output: `${call.name} was not run: ${problem}` };
  try {
    return await spec.run(call.input, env);
  } catch (error) {
    return { ok: false, output: `${call.name} failed: ${(error as Error).message}` };
  }
}

/** Waits for a human to decide each held change, and says what became of it. */
async function outcomes(env: LoopEnv, ids: readonly string[]): Promise<Map<string, string>> {
  const deadline = Date.now() + env.limits.approvalWaitMs;
  const said = new Map<string, string>();
  while (said.size < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      if (said.has(id)) continue;
      const { change } = (await env.api.call("GET", `/v1/changes/${id}`)).body as {
        change?: { state: string; kind: string; reason?: string };
      };
      const state = change?.state ?? "unknown";
      if (state === "pending" || state === "approved") continue;
      said.set(
        id,
        state === "applied"
          ? `change ${id} (${change?.kind}) was approved and applied`
          : `change ${id} (${change?.kind}) was ${state}${change?.reason ? `: ${change.reason}` : ""}`,
      );
    }
    if (said.size < ids.length) await sleep(env.limits.pollMs);
  }
  for (const id of ids) if (!said.has(id)) said.set(id, `change ${id} is still waiting for a decision`);
  return said;
}

const replyText = (content: readonly Block[]) =>
  content
    .filter((block): block is Extract<Block, { type: "text" }> => block.type === "text")
    .map((block) => block.text)
    .join("\n")
    .trim();

/**
 * One task: the model proposes, the host disposes. Each tool call is checked against its schema and
 * against the registry at call time; a capability the agent lacks can only be requested, and the task
 * waits for the human's decision before it goes on.
 */
export async function runTask(env: LoopEnv, message: Inbound): Promise<string> {
  const conversation: Message[] = [{ role: "user", content: userTurn(message) }];
  const started = Date.now();
  let waited = 0;
  let tokens = 0;
  for (let step = 1; step <= env.limits.maxSteps; step += 1) {
    if (Date.now() - started - waited > env.limits.wallMs)
      return `stopped: the task ran past its ${env.limits.wallMs / 1000} s`;
    const self = await readSelf(env.api);
    if (self.model === null) throw new ModelUnavailable(NO_MODEL);
    const completion = await complete(
      env.channels.model,
      { system: systemPrompt(self), messages: conversation, tools: offers(await currentTools(env, self)) },
      env.limits.modelTimeoutMs,
    );
    tokens += completion.usage.inputTokens + completion.usage.outputTokens;
    conversation.push({ role: "assistant", content: completion.content });
    const calls = completion.content.filter((block): block is ToolCall => block.type === "tool_call");
    if (calls.length === 0) return replyText(completion.content) || "(the model gave no answer)";
    if (tokens > env.limits.maxTokens)
      return `stopped: the task used ${tokens} tokens (at most ${env.limits.maxTokens})`;
    const results: { toolCallId: string; output: string; isError: boolean; held: readonly string[] }[] = [];
    for (const call of calls) {
      const result = await callTool(env, call);
      results.push({
        toolCallId: call.id,
        output: result.output,
        isError: !result.ok,
        held: result.held ?? [],
      });
    }
    const held = results.flatMap((r) => r.held);
    if (held.length > 0) {
      await env.api.say(`asked for ${held.join(", ")}: HELD for approval`);
      const waitStart = Date.now();
      const decided = await outcomes(env, held);
      waited += Date.now() - waitStart;
      for (const result of results) {
        if (result.held.length > 0) result.output = result.held.map((id) => decided.get(id)).join("; ");
      }
    }
    conversation.push({
      role: "tool",
      results: results.map(({ toolCallId, output, isError }) => ({ toolCallId, output, isError })),
    });
  }
  return `stopped: the task took ${env.limits.maxSteps} steps without an answer`;
}
