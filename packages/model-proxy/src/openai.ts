import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-client.js";
import { estimateInputTokens, estimateTokens, type NeutralMessage, type StopReason } from "./neutral.js";
import type { ModelProvider, ProviderCall, ProviderCallOptions } from "./provider.js";
import { postProviderJson, providerEndpoint } from "./provider-post.js";
import { badResponse, neutralCompletion } from "./reply.js";
import { secretForms } from "./secret-forms.js";

export const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";

/**
 * The name of the output cap. OpenAI deprecated `max_tokens` for `max_completion_tokens`, which its
 * reasoning models require; Ollama, llama.cpp and most compatible servers document only `max_tokens`.
 * So `max_tokens` is the default and an operator sets `max_completion_tokens` for such OpenAI models.
 */
export type MaxTokensField = "max_tokens" | "max_completion_tokens";

export interface OpenAiProviderOptions {
  readonly name: string;
  /** With the version: the proxy posts to {baseUrl}/chat/completions (https://api.openai.com/v1). */
  readonly baseUrl: URL;
  /** Optional: local servers (Ollama, llama.cpp) need none. */
  readonly apiKey: string | undefined;
  readonly models: readonly string[] | null;
  readonly maxTokensField?: MaxTokensField;
  readonly limits?: HttpLimits;
}

type ChatMessage =
  | { role: "system" | "user"; content: string }
  | {
      role: "assistant";
      content: string | null;
      tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[];
    }
  | { role: "tool"; tool_call_id: string; content: string };

/** OpenAI-compatible Chat Completions (OpenAI, OpenRouter, Ollama, vLLM, llama.cpp), not streamed. */
export function openAiProvider(options: OpenAiProviderOptions): ModelProvider {
  const url = providerEndpoint(options.baseUrl, "/chat/completions");
  const secrets = options.apiKey === undefined ? [] : secretForms(options.apiKey);
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const field = options.maxTokensField ?? "max_tokens";
  return {
    name: options.name,
    type: "openai",
    models: options.models,
    async complete(call: ProviderCall, callOptions: ProviderCallOptions = {}) {
      const reply = await postProviderJson({
        provider: options.name,
        url,
        headers: options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` },
        body: JSON.stringify(openAiRequestBody(call, field)),
        secrets,
        limits,
        secureContext: callOptions.secureContext,
      });
      return openAiCompletion(options.name, reply, call, secrets);
    },
  };
}

/** The request body, in the key order the tests pin: model, messages, tools, then the output cap. */
export function openAiRequestBody(call: ProviderCall, field: MaxTokensField): Record<string, unknown> {
  const messages: ChatMessage[] = call.system === "" ? [] : [{ role: "system", content: call.system }];
  for (const message of call.messages) messages.push(...translate(message));
  return {
    model: call.model,
    messages,
    ...(call.tools.length === 0
      ? {}
      : {
          tools: call.tools.map((tool) => ({
            type: "function",
            function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
          })),
        }),
    [field]: call.maxOutputTokens,
  };
}

/** Chat Completions has no error flag on a tool result, so a failed one says so in its text. */
export const TOOL_ERROR_PREFIX = "ERROR: ";

function translate(message: NeutralMessage): ChatMessage[] {
  switch (message.role) {
    case "user":
      return [{ role: "user", content: message.content }];
    case "assistant": {
      const text = message.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
      const calls = message.content.flatMap((b) =>
        b.type === "tool_call"
          ? [
              {
                id: b.id,
                type: "function" as const,
                function: { name: b.name, arguments: JSON.stringify(b.input) },
              },
            ]
          : [],
      );
      return [
        {
          role: "assistant",
          content: text === "" ? null : text,
          ...(calls.length === 0 ? {} : { tool_calls: calls }),
        },
      ];
    }
    case "tool":
      return message.results.map((result) => ({
        role: "tool",
        tool_call_id: result.toolCallId,
        content: result.isError ? `${TOOL_ERROR_PREFIX}${result.output}` : result.output,
      }));
  }
}

type ResponseToolCall = { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } };

/**
 * choices[0] back to neutral. Lenient where local servers differ from OpenAI and nothing is at stake:
 * a missing tool-call id is numbered, arguments already an object are taken as is, and a server that
 * reports no usage is charged the deterministic estimate.
 */
export function openAiCompletion(
  provider: string,
  value: unknown,
  call: ProviderCall,
  secrets: readonly string[],
) {
  const body = value as {
    choices?: unknown;
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  } | null;
  const choice = (Array.isArray(body?.choices) ? body.choices[0] : undefined) as
    | { message?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }
    | undefined;
  const message = choice?.message;
  if (message === undefined || message === null || typeof message !== "object") {
    throw badResponse(provider, "expected a Chat Completions body with choices[0].message", secrets);
  }
  const content: unknown[] = [];
  if (typeof message.content === "string" && message.content !== "")
    content.push({ type: "text", text: message.content });
  else if (message.content !== null && message.content !== undefined && message.content !== "")
    throw badResponse(provider, "expected choices[0].message.content to be a string or null", secrets);
  const toolCalls = message.tool_calls ?? [];
  if (!Array.isArray(toolCalls)) throw badResponse(provider, "expected tool_calls to be an array", secrets);
  for (const [index, raw] of (toolCalls as ResponseToolCall[]).entries()) {
    content.push({
      type: "tool_call",
      id: raw?.id ?? `call_${index}`,
      name: raw?.function?.name,
      input: toolInput(provider, raw?.function?.arguments, index, secrets),
    });
  }
  const stop = stopOf(choice?.finish_reason, toolCalls.length > 0);
  const usage = body?.usage;
  const input = usage?.prompt_tokens ?? estimateInputTokens(call);
  const output = usage?.completion_tokens ?? estimateTokens(JSON.stringify(content));
  return neutralCompletion(provider, content, stop, input, output, secrets);
}

function toolInput(provider: string, args: unknown, index: number, secrets: readonly string[]): unknown {
  if (typeof args === "object" && args !== null) return args;
  if (args === "" || args === undefined) return {};
  if (typeof args !== "string")
    throw badResponse(provider, `tool_calls ${index}: expected arguments as a JSON string`, secrets);
  try {
    return JSON.parse(args);
  } catch {
    throw badResponse(provider, `tool_calls ${index}: the arguments are not valid JSON`, secrets);
  }
}

/** Some compatible servers say "stop" even when they call tools: the calls decide. */
function stopOf(reason: unknown, calledTools: boolean): StopReason {
  if (calledTools) return "tool_calls";
  if (reason === "length") return "max_tokens";
  return "end";
}
