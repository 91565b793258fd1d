import { en } from "zod/locales";
import * as z from "zod/mini";
import { type JsonObject, jsonObjectProblem } from "./json.js";

// zod/mini, as in the gateway: small, with English messages for people.
z.config(en());

/** Every size the agent can send is bounded; the body cap is checked before parsing. */
export const NEUTRAL_LIMITS = {
  bodyBytes: 1024 * 1024,
  systemChars: 64 * 1024,
  messages: 256,
  textChars: 256 * 1024,
  blocksPerMessage: 64,
  resultsPerMessage: 64,
  tools: 128,
  toolDescriptionChars: 4096,
  jsonDepth: 32,
  jsonNodes: 10_000,
  maxOutputTokens: 200_000,
} as const;

/** Names the Anthropic and OpenAI tool APIs both accept (OpenAI stops at 64 characters). */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Provider tool-call ids: toolu_…, call_…, and the shorter ids of local servers. */
export const TOOL_CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

const text = z.string().check(z.maxLength(NEUTRAL_LIMITS.textChars));
const toolName = z.string().check(z.regex(TOOL_NAME, "a tool name: A-Z, a-z, 0-9, '_' and '-', ≤ 64"));
const toolCallId = z
  .string()
  .check(z.regex(TOOL_CALL_ID, "a tool-call id: A-Z, a-z, 0-9, '_', '.', ':' and '-', ≤ 128"));
const jsonObject = z.custom<JsonObject>(
  (value) =>
    jsonObjectProblem(value, { maxDepth: NEUTRAL_LIMITS.jsonDepth, maxNodes: NEUTRAL_LIMITS.jsonNodes }) ===
    undefined,
  `a JSON object, at most ${NEUTRAL_LIMITS.jsonDepth} levels deep and ${NEUTRAL_LIMITS.jsonNodes} values`,
);

const textBlock = z.strictObject({ type: z.literal("text"), text });
const toolCallBlock = z.strictObject({
  type: z.literal("tool_call"),
  id: toolCallId,
  name: toolName,
  input: jsonObject,
});
export const BLOCK_SCHEMA = z.discriminatedUnion("type", [textBlock, toolCallBlock]);

const userMessage = z.strictObject({ role: z.literal("user"), content: text });
const assistantMessage = z.strictObject({
  role: z.literal("assistant"),
  content: z.array(BLOCK_SCHEMA).check(z.maxLength(NEUTRAL_LIMITS.blocksPerMessage)),
});
const toolMessage = z.strictObject({
  role: z.literal("tool"),
  results: z
    .array(z.strictObject({ toolCallId, output: text, isError: z.boolean() }))
    .check(z.minLength(1), z.maxLength(NEUTRAL_LIMITS.resultsPerMessage)),
});

const tool = z.strictObject({
  name: toolName,
  description: z.string().check(z.maxLength(NEUTRAL_LIMITS.toolDescriptionChars)),
  inputSchema: jsonObject,
});

/** POST /v1/complete. No provider, no model: the proxy takes those from the approval. */
export const COMPLETE_REQUEST_SCHEMA = z.strictObject({
  system: z.string().check(z.maxLength(NEUTRAL_LIMITS.systemChars)),
  messages: z
    .array(z.discriminatedUnion("role", [userMessage, assistantMessage, toolMessage]))
    .check(z.minLength(1), z.maxLength(NEUTRAL_LIMITS.messages)),
  tools: z.array(tool).check(z.maxLength(NEUTRAL_LIMITS.tools)),
  maxOutputTokens: z.optional(z.int().check(z.minimum(1), z.maximum(NEUTRAL_LIMITS.maxOutputTokens))),
});

export type Block = z.infer<typeof BLOCK_SCHEMA>;
export type TextBlock = z.infer<typeof textBlock>;
export type ToolCallBlock = z.infer<typeof toolCallBlock>;
export type NeutralMessage = z.infer<typeof COMPLETE_REQUEST_SCHEMA>["messages"][number];
export type NeutralTool = z.infer<typeof tool>;
export type CompleteRequest = z.infer<typeof COMPLETE_REQUEST_SCHEMA>;

export type StopReason = "end" | "tool_calls" | "max_tokens";

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What a provider returns, before the proxy names the provider and model. */
export interface Completion {
  readonly content: readonly Block[];
  readonly stop: StopReason;
  readonly usage: Usage;
}

export interface CompleteResponse extends Completion {
  readonly provider: string;
  readonly model: string;
}

/** The body of every refusal. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export type ParsedRequest = { ok: true; request: CompleteRequest } | { ok: false; message: string };

/** Parses a request body the caller has already size-checked; the message says what was expected. */
export function parseCompleteRequest(value: unknown): ParsedRequest {
  const result = COMPLETE_REQUEST_SCHEMA.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "body" : issue.path.join(".");
    const unknown = issue?.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    return { ok: false, message: `${where}: ${issue?.message ?? "invalid"}${unknown}` };
  }
  const problem = conversationProblem(result.data);
  if (problem !== undefined) return { ok: false, message: problem };
  return { ok: true, request: result.data };
}

/**
 * What both providers refuse anyway, said first and plainly: the conversation starts with the user,
 * tool results answer the calls of the assistant turn just before them, and tool names are distinct.
 */
function conversationProblem(request: CompleteRequest): string | undefined {
  if (request.messages[0]?.role !== "user")
    return "messages.0: expected the conversation to start with a user message";
  const names = new Set<string>();
  for (const tool of request.tools) {
    if (names.has(tool.name)) return `tools: ${tool.name} is listed twice`;
    names.add(tool.name);
  }
  for (const [index, message] of request.messages.entries()) {
    if (message.role !== "tool") continue;
    const previous = request.messages[index - 1];
    const calls = new Set(
      previous?.role === "assistant"
        ? previous.content.flatMap((block) => (block.type === "tool_call" ? [block.id] : []))
        : [],
    );
    for (const result of message.results) {
      if (!calls.has(result.toolCallId))
        return `messages.${index}: expected each tool result to answer a tool call of the assistant message before it, found ${result.toolCallId}`;
    }
  }
  return undefined;
}

/**
 * A deterministic token estimate: a quarter of the UTF-8 bytes, rounded up. The mock counts with it,
 * and the proxy reserves it for a call's input before the provider says what it counted.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, "utf8") / 4);
}

/** The estimate of a request's input: its system prompt, messages and tools as JSON. */
export function estimateInputTokens(request: Pick<CompleteRequest, "system" | "messages" | "tools">): number {
  return estimateTokens(
    JSON.stringify({ system: request.system, messages: request.messages, tools: request.tools }),
  );
}
