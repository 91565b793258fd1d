import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-client.js";
import type { NeutralMessage, StopReason } from "./neutral.js";
import type { ModelProvider, ProviderCall, ProviderCallOptions } from "./provider.js";
import { postProviderJson, providerEndpoint } from "./provider-post.js";
import { badResponse, neutralCompletion } from "./reply.js";
import { secretForms } from "./secret-forms.js";

export const ANTHROPIC_VERSION = "2023-06-01";
export const ANTHROPIC_DEFAULT_BASE_URL = "https://api.anthropic.com";

export interface AnthropicProviderOptions {
  readonly name: string;
  /** Without /v1: the proxy posts to {baseUrl}/v1/messages. */
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly models: readonly string[] | null;
  readonly limits?: HttpLimits;
}

type AnthropicBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; tool_use_id: string; content: string; is_error: boolean };
type AnthropicMessage = { role: "user" | "assistant"; content: string | AnthropicBlock[] };

/** The Anthropic Messages API (POST /v1/messages), not streamed. */
export function anthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const url = providerEndpoint(options.baseUrl, "/v1/messages");
  const secrets = secretForms(options.apiKey);
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  return {
    name: options.name,
    type: "anthropic",
    models: options.models,
    async complete(call: ProviderCall, callOptions: ProviderCallOptions = {}) {
      const reply = await postProviderJson({
        provider: options.name,
        url,
        headers: { "x-api-key": options.apiKey, "anthropic-version": ANTHROPIC_VERSION },
        body: JSON.stringify(anthropicRequestBody(call)),
        secrets,
        limits,
        secureContext: callOptions.secureContext,
      });
      return anthropicCompletion(options.name, reply, secrets);
    },
  };
}

/** The request body, in the key order the tests pin: model, max_tokens, system, messages, tools. */
export function anthropicRequestBody(call: ProviderCall): Record<string, unknown> {
  return {
    model: call.model,
    max_tokens: call.maxOutputTokens,
    ...(call.system === "" ? {} : { system: call.system }),
    messages: anthropicMessages(call.messages),
    ...(call.tools.length === 0
      ? {}
      : {
          tools: call.tools.map((tool) => ({
            name: tool.name,
            description: tool.description,
            input_schema: tool.inputSchema,
          })),
        }),
  };
}

/** Tool results travel as tool_result blocks in a user turn; adjacent user turns become one. */
function anthropicMessages(messages: readonly NeutralMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    const next = translate(message);
    const last = out[out.length - 1];
    if (last !== undefined && last.role === "user" && next.role === "user") {
      last.content = [...asBlocks(last.content), ...asBlocks(next.content)];
    } else out.push(next);
  }
  return out;
}

function translate(message: NeutralMessage): AnthropicMessage {
  switch (message.role) {
    case "user":
      return { role: "user", content: message.content };
    case "assistant":
      return {
        role: "assistant",
        content: message.content.map((block) =>
          block.type === "text"
            ? { type: "text", text: block.text }
            : { type: "tool_use", id: block.id, name: block.name, input: block.input },
        ),
      };
    case "tool":
      return {
        role: "user",
        content: message.results.map((result) => ({
          type: "tool_result",
          tool_use_id: result.toolCallId,
          content: result.output,
          is_error: result.isError,
        })),
      };
  }
}

function asBlocks(content: string | AnthropicBlock[]): AnthropicBlock[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

const STOPS: Readonly<Record<string, StopReason>> = {
  end_turn: "end",
  stop_sequence: "end",
  refusal: "end",
  tool_use: "tool_calls",
  max_tokens: "max_tokens",
  model_context_window_exceeded: "max_tokens",
};

/** A Messages API response, back to neutral: text and tool_use blocks, the stop reason, the usage. */
export function anthropicCompletion(provider: string, value: unknown, secrets: readonly string[]) {
  const body = value as {
    type?: unknown;
    content?: unknown;
    stop_reason?: unknown;
    usage?: {
      input_tokens?: unknown;
      output_tokens?: unknown;
      cache_creation_input_tokens?: unknown;
      cache_read_input_tokens?: unknown;
    };
  } | null;
  if (body === null || typeof body !== "object" || body.type !== "message" || !Array.isArray(body.content)) {
    throw badResponse(
      provider,
      'expected a Messages API body: {"type": "message", "content": [...]}',
      secrets,
    );
  }
  const stopReason = typeof body.stop_reason === "string" ? body.stop_reason : "";
  const stop = Object.hasOwn(STOPS, stopReason) ? STOPS[stopReason] : undefined;
  if (stop === undefined)
    throw badResponse(provider, `unexpected stop_reason ${JSON.stringify(body.stop_reason)}`, secrets);
  const content = body.content.map(
    (
      block: { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown },
      index: number,
    ) => {
      if (block?.type === "text") return { type: "text", text: block.text };
      if (block?.type === "tool_use")
        return { type: "tool_call", id: block.id, name: block.name, input: block.input };
      throw badResponse(
        provider,
        `content ${index}: expected a text or tool_use block, found ${JSON.stringify(block?.type)}`,
        secrets,
      );
    },
  );
  const usage = body.usage ?? {};
  // Cached input is still input: the budget counts it.
  const cached = Number(usage.cache_creation_input_tokens ?? 0) + Number(usage.cache_read_input_tokens ?? 0);
  const input =
    typeof usage.input_tokens === "number" && Number.isSafeInteger(cached)
      ? usage.input_tokens + cached
      : usage.input_tokens;
  return neutralCompletion(provider, content, stop, input, usage.output_tokens, secrets);
}
