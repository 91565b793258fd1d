import * as z from "zod/mini";
import { type JsonObject, type JsonValue, jsonObjectProblem } from "./json.js";
import {
  defaultMockReply,
  type MockContext,
  type MockReply,
  mockContext,
  QUOTE_CHARS,
} from "./mock-script.js";
import { type Block, type Completion, estimateInputTokens, estimateTokens, TOOL_NAME } from "./neutral.js";
import type { ModelProvider, ProviderCall } from "./provider.js";

const needle = z.string().check(z.minLength(1), z.maxLength(256));
const toolName = z.string().check(z.regex(TOOL_NAME));
const input = z.custom<JsonObject>(
  (value) => jsonObjectProblem(value, { maxDepth: 16, maxNodes: 1000 }) === undefined,
  "a JSON object, at most 16 levels deep and 1000 values",
);

/** A rule of a scripted mock: the first whose every condition holds answers. */
export const MOCK_RULE_SCHEMA = z.strictObject({
  when: z.strictObject({
    lastUserContains: z.optional(needle),
    lastToolResultContains: z.optional(needle),
    hasTool: z.optional(toolName),
    lacksTool: z.optional(toolName),
  }),
  reply: z
    .strictObject({
      text: z.optional(z.string().check(z.maxLength(16_384))),
      toolCalls: z.optional(z.array(z.strictObject({ name: toolName, input })).check(z.maxLength(16))),
    })
    .check(
      z.refine(
        (r) => r.text !== undefined || (r.toolCalls?.length ?? 0) > 0,
        "a reply needs text or a tool call",
      ),
    ),
});
export const MOCK_RULES_SCHEMA = z.array(MOCK_RULE_SCHEMA).check(z.maxLength(64));

export type MockRule = z.infer<typeof MOCK_RULE_SCHEMA>;

/**
 * The offline provider: deterministic, no credentials, no network. Rules first (first match wins),
 * then the built-in script. Tokens are counted with the same estimate the proxy reserves, so a budget
 * holds exactly with it.
 */
export function mockProvider(options: {
  readonly name: string;
  readonly rules?: readonly MockRule[];
}): ModelProvider {
  const rules = options.rules ?? [];
  return {
    name: options.name,
    type: "mock",
    models: null,
    complete: async (call: ProviderCall) => mockComplete(call, rules),
  };
}

export function mockComplete(call: ProviderCall, rules: readonly MockRule[]): Completion {
  const context = mockContext(call.messages, call.tools);
  const rule = rules.find((candidate) => matches(candidate, context));
  const reply = rule === undefined ? defaultMockReply(context) : substitute(rule.reply, context);
  const content: Block[] = [];
  if (reply.text !== undefined && reply.text !== "") content.push({ type: "text", text: reply.text });
  for (const [index, toolCall] of (reply.toolCalls ?? []).entries()) {
    content.push({
      type: "tool_call",
      id: `mock_${call.messages.length}_${index}`,
      name: toolCall.name,
      input: toolCall.input,
    });
  }
  const inputTokens = estimateInputTokens(call);
  const outputTokens = content.reduce((sum, block) => sum + blockTokens(block), 0);
  if (outputTokens <= call.maxOutputTokens) {
    return {
      content,
      stop: content.some((b) => b.type === "tool_call") ? "tool_calls" : "end",
      usage: { inputTokens, outputTokens },
    };
  }
  // Over the cap: what a real model does, the text cut where the tokens ran out.
  const whole = content.map((b) => (b.type === "text" ? b.text : JSON.stringify(b.input))).join("\n");
  const cut = cutToBytes(whole, call.maxOutputTokens * 4);
  return {
    content: cut === "" ? [] : [{ type: "text", text: cut }],
    stop: "max_tokens",
    usage: { inputTokens, outputTokens: estimateTokens(cut) },
  };
}

function blockTokens(block: Block): number {
  return block.type === "text"
    ? estimateTokens(block.text)
    : estimateTokens(block.name + JSON.stringify(block.input));
}

function cutToBytes(text: string, bytes: number): string {
  let out = "";
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, "utf8");
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

function matches(rule: MockRule, context: MockContext): boolean {
  const { lastUserContains, lastToolResultContains, hasTool, lacksTool } = rule.when;
  if (
    lastUserContains !== undefined &&
    !(context.last.role === "user" && context.lastUser.includes(lastUserContains))
  )
    return false;
  if (
    lastToolResultContains !== undefined &&
    !context.lastToolOutputs.some((o) => o.includes(lastToolResultContains))
  )
    return false;
  if (hasTool !== undefined && !context.offered.has(hasTool)) return false;
  if (lacksTool !== undefined && context.offered.has(lacksTool)) return false;
  return true;
}

/**
 * Fills {{url}}, {{host}}, {{port}}, {{lastToolOutput}} and {{tools}} in every string of a reply. A
 * string that is exactly "{{port}}" becomes the number, exactly "{{tools}}" the list of offered
 * compiled-in tools. Objects are rebuilt with Object.fromEntries, which keeps "__proto__" an own key.
 */
function substitute(reply: MockRule["reply"], context: MockContext): MockReply {
  const values: ReadonlyMap<string, string> = new Map([
    ["url", context.url?.href ?? ""],
    ["host", context.url?.host ?? ""],
    ["port", String(context.url?.port ?? "")],
    ["lastToolOutput", (context.lastToolOutputs[0] ?? "").slice(0, QUOTE_CHARS)],
    ["tools", context.compiledTools.join(",")],
  ]);
  const fill = (text: string): string =>
    text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values.get(key) ?? whole);
  const walk = (value: JsonValue): JsonValue => {
    if (value === "{{port}}" && context.url !== undefined) return context.url.port;
    if (value === "{{tools}}") return [...context.compiledTools];
    if (typeof value === "string") return fill(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
    return value;
  };
  return {
    ...(reply.text === undefined ? {} : { text: fill(reply.text) }),
    ...(reply.toolCalls === undefined
      ? {}
      : {
          toolCalls: reply.toolCalls.map((call) => ({
            name: call.name,
            input: walk(call.input) as JsonObject,
          })),
        }),
  };
}
