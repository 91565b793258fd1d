import type { SecureContext } from "node:tls";
import type { CompleteRequest, Completion } from "./neutral.js";

export type ProviderType = "anthropic" | "openai" | "mock";

/** One call as the proxy hands it to a provider: the approved model and the clamped output cap. */
export interface ProviderCall {
  readonly model: string;
  readonly system: CompleteRequest["system"];
  readonly messages: CompleteRequest["messages"];
  readonly tools: CompleteRequest["tools"];
  readonly maxOutputTokens: number;
}

export interface ProviderCallOptions {
  /** Trusted roots for https (Node's plus any extra CA); undefined for Node's defaults. */
  readonly secureContext?: SecureContext | undefined;
}

/**
 * A configured provider. It holds its API key in a closure: no property, JSON form or inspection of
 * this object shows it.
 */
export interface ModelProvider {
  readonly name: string;
  readonly type: ProviderType;
  /** The models the operator allows; null for any. */
  readonly models: readonly string[] | null;
  complete(call: ProviderCall, options?: ProviderCallOptions): Promise<Completion>;
}

/** Provider name → provider. Also the shape the gateway's verifier reads (`models`). */
export type ModelProviders = ReadonlyMap<string, ModelProvider>;
