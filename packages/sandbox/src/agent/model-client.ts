import { onSocket } from "./channels.js";
import { exchange } from "./host-api.js";
import type { ObjectSchema } from "./input-schema.js";

/** The neutral format the model proxy speaks; the agent never names a provider or a model. */
export type Block =
  | { readonly type: "text"; readonly text: string }
  | {
      readonly type: "tool_call";
      readonly id: string;
      readonly name: string;
      readonly input: Record<string, unknown>;
    };

export type Message =
  | { readonly role: "user"; readonly content: string }
  | { readonly role: "assistant"; readonly content: readonly Block[] }
  | {
      readonly role: "tool";
      readonly results: readonly {
        readonly toolCallId: string;
        readonly output: string;
        readonly isError: boolean;
      }[];
    };

export interface ToolOffer {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: ObjectSchema | Record<string, unknown>;
}

export interface Completion {
  readonly content: readonly Block[];
  readonly stop: "end" | "tool_calls" | "max_tokens";
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
}

export class ModelUnavailable extends Error {}

export const NO_MODEL = "I have no model: an operator must approve a `model` change for me first.";

/** One call to the model through the host's proxy. */
export async function complete(
  socketPath: string,
  request: {
    readonly system: string;
    readonly messages: readonly Message[];
    readonly tools: readonly ToolOffer[];
  },
  timeoutMs: number,
): Promise<Completion> {
  const { status, text } = await onSocket(socketPath, () =>
    exchange(socketPath, "POST", "/v1/complete", { body: request, timeoutMs }),
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT" || error.code === "ECONNREFUSED") throw new ModelUnavailable(NO_MODEL);
    throw error;
  });
  const answer = JSON.parse(text) as Completion & { error?: { code: string; message: string } };
  if (status !== 200 || answer.error !== undefined) {
    const error = answer.error ?? { code: "IC_MODEL_UNKNOWN", message: `status ${status}` };
    throw new ModelUnavailable(`the model proxy refused: ${error.code}: ${error.message}`);
  }
  if (!Array.isArray(answer.content)) throw new ModelUnavailable("the model proxy's answer had no content");
  return answer;
}
