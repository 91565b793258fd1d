/**
 * Every refusal the proxy answers and every failure it throws carries a stable code, with the HTTP
 * status the agent sees. Messages may be reworded, codes may not: the agent loop and the audit key on them.
 */
export const MODEL_ERROR_STATUS = {
  // The agent's request.
  IC_MODEL_BAD_REQUEST: 400,
  IC_MODEL_NOT_FOUND: 404,
  IC_MODEL_METHOD_NOT_ALLOWED: 405,
  IC_MODEL_REQUEST_TIMEOUT: 408,
  IC_MODEL_REQUEST_TOO_LARGE: 413,
  IC_MODEL_UNSUPPORTED_MEDIA_TYPE: 415,
  // The approval, the operator's configuration and the budget.
  IC_MODEL_NOT_APPROVED: 403,
  IC_MODEL_PROVIDER_UNKNOWN: 403,
  IC_MODEL_MODEL_NOT_ALLOWED: 403,
  IC_MODEL_BUDGET_EXHAUSTED: 429,
  IC_MODEL_BUSY: 429,
  IC_MODEL_UNAVAILABLE: 503,
  // The provider.
  IC_MODEL_PROVIDER_UNREACHABLE: 502,
  IC_MODEL_PROVIDER_TLS: 502,
  IC_MODEL_PROVIDER_TIMEOUT: 504,
  IC_MODEL_PROVIDER_REDIRECT: 502,
  IC_MODEL_PROVIDER_AUTH: 502,
  IC_MODEL_PROVIDER_RATE_LIMITED: 503,
  IC_MODEL_PROVIDER_REJECTED: 502,
  IC_MODEL_PROVIDER_ERROR: 502,
  IC_MODEL_PROVIDER_RESPONSE: 502,
  IC_MODEL_PROVIDER_TOO_LARGE: 502,
  // The host's configuration and the proxy itself (thrown, never answered).
  IC_MODEL_PROVIDERS_INVALID: 500,
  IC_MODEL_PROVIDERS_UNREADABLE: 500,
  IC_MODEL_KEY_MISSING: 500,
  IC_MODEL_KEY_FILE_UNSAFE: 500,
  IC_MODEL_OPTIONS_INVALID: 500,
  IC_MODEL_LISTEN_FAILED: 500,
} as const;

export type ModelErrorCode = keyof typeof MODEL_ERROR_STATUS;

export const MODEL_ERROR_CODES = Object.keys(MODEL_ERROR_STATUS) as readonly ModelErrorCode[];

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  /** What the provider said the refused call cost, where it said so: the budget is charged anyway. */
  readonly spent: { readonly inputTokens: number; readonly outputTokens: number } | undefined;

  constructor(
    code: ModelErrorCode,
    message: string,
    options: {
      readonly cause?: unknown;
      readonly spent?: { readonly inputTokens: number; readonly outputTokens: number };
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ModelError";
    this.code = code;
    this.spent = options.spent;
  }

  get status(): number {
    return MODEL_ERROR_STATUS[this.code];
  }
}

export function isModelError(value: unknown): value is ModelError {
  return value instanceof ModelError;
}
