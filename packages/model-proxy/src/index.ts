export { ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_VERSION, anthropicProvider } from "./anthropic.js";
export { type CallPlan, type ModelApproval, planCall } from "./budget.js";
export {
  type LoadModelProvidersOptions,
  loadModelProviders,
  MOCK_PROVIDER,
  MODEL_NAME,
  PROVIDER_NAME,
  PROVIDERS_FILE,
} from "./config.js";
export * from "./errors.js";
export { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-client.js";
export type { JsonObject, JsonValue } from "./json.js";
export {
  createMemoryLedger,
  type ModelCallEvent,
  seedLedger,
  type UsageLedger,
  utcDay,
} from "./ledger.js";
export { MOCK_RULES_SCHEMA, type MockRule, mockProvider } from "./mock.js";
export {
  type Block,
  type CompleteRequest,
  type CompleteResponse,
  type Completion,
  type ErrorBody,
  estimateInputTokens,
  estimateTokens,
  NEUTRAL_LIMITS,
  type NeutralMessage,
  type NeutralTool,
  parseCompleteRequest,
  type StopReason,
  type TextBlock,
  type ToolCallBlock,
  type Usage,
} from "./neutral.js";
export { type MaxTokensField, OPENAI_DEFAULT_BASE_URL, openAiProvider, TOOL_ERROR_PREFIX } from "./openai.js";
export type {
  ModelProvider,
  ModelProviders,
  ProviderCall,
  ProviderCallOptions,
  ProviderType,
} from "./provider.js";
export {
  DEFAULT_PROXY_LIMITS,
  type ModelProxy,
  type ModelProxyOptions,
  type ProxyLimits,
  startModelProxy,
} from "./proxy.js";
