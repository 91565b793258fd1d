import { MODEL_NAME, PROVIDER_NAME } from "./config.js";
import { isModelError, ModelError } from "./errors.js";
import type { ModelProvider, ModelProviders } from "./provider.js";

/** The registry's `AgentRecord.model`: what the operator approved for an agent. */
export interface ModelApproval {
  readonly provider: string;
  readonly model: string;
  readonly maxOutputTokens: number;
  readonly dailyTokens: number;
}

export interface CallPlan {
  readonly provider: ModelProvider;
  readonly approval: ModelApproval;
  /** The output cap the provider is given. */
  readonly maxOutputTokens: number;
}

/**
 * Decides one call, pure: the approval must exist and name a configured provider and an allowed model;
 * the budget must have room. The guarantee: a call starts only while `used < dailyTokens`, and its
 * output cap is `dailyTokens − used − reservedInput`, where reservedInput is the deterministic estimate
 * of its input. So with the mock (which counts with that estimate) the day's total never exceeds
 * dailyTokens; with a real provider it can exceed it only by how far the provider's input count
 * exceeds the estimate, on the one call that crosses, after which every call is refused until the
 * next UTC day. Calls of one agent are serialized, so no two calls spend the same room.
 */
export function planCall(options: {
  /** null, as the registry says for an agent without a model, is the same as undefined. */
  readonly approval: ModelApproval | null | undefined;
  readonly providers: ModelProviders;
  readonly used: number;
  readonly reservedInput: number;
  readonly requestedMaxOutputTokens: number | undefined;
}): CallPlan {
  const { approval } = options;
  if (approval === undefined || approval === null || !wellFormed(approval)) {
    throw new ModelError(
      "IC_MODEL_NOT_APPROVED",
      "this agent has no approved model; ask the operator to approve a `model` change",
    );
  }
  const provider = options.providers.get(approval.provider);
  if (provider === undefined) {
    throw new ModelError(
      "IC_MODEL_PROVIDER_UNKNOWN",
      `the approved provider ${approval.provider} is not configured on this host; the operator must add it to model-providers.json or approve another`,
    );
  }
  if (provider.models !== null && !provider.models.includes(approval.model)) {
    throw new ModelError(
      "IC_MODEL_MODEL_NOT_ALLOWED",
      `the approved model ${approval.model} is not among the models provider ${approval.provider} allows (${provider.models.join(", ")})`,
    );
  }
  const remaining = approval.dailyTokens - options.used;
  if (remaining <= 0) {
    throw new ModelError(
      "IC_MODEL_BUDGET_EXHAUSTED",
      `the daily budget of ${approval.dailyTokens} tokens is used (${options.used}); it resets at 00:00 UTC, or the operator can approve a larger one`,
    );
  }
  const room = remaining - options.reservedInput;
  if (room < 1) {
    throw new ModelError(
      "IC_MODEL_BUDGET_EXHAUSTED",
      `this request's input (about ${options.reservedInput} tokens) does not fit the ${remaining} tokens left today; send less, or wait for 00:00 UTC`,
    );
  }
  const wanted = Math.min(
    options.requestedMaxOutputTokens ?? approval.maxOutputTokens,
    approval.maxOutputTokens,
  );
  return { provider, approval, maxOutputTokens: Math.min(wanted, room) };
}

function wellFormed(approval: ModelApproval): boolean {
  return (
    typeof approval.provider === "string" &&
    PROVIDER_NAME.test(approval.provider) &&
    typeof approval.model === "string" &&
    MODEL_NAME.test(approval.model) &&
    Number.isSafeInteger(approval.maxOutputTokens) &&
    approval.maxOutputTokens >= 1 &&
    Number.isSafeInteger(approval.dailyTokens) &&
    approval.dailyTokens >= 1
  );
}

/** Failures after which the provider may have done (and billed) the work, though no usable answer came. */
const PAID_FAILURES: ReadonlySet<string> = new Set([
  "IC_MODEL_PROVIDER_TIMEOUT",
  "IC_MODEL_PROVIDER_RESPONSE",
  "IC_MODEL_PROVIDER_TOO_LARGE",
]);

/**
 * What a failed call is charged to the budget. Without this, a model that answers too long to arrive
 * in time, or malformed, would be paid for by the operator and counted by nobody, call after call.
 * The provider's own count where it gave one, else the call's reservation (its input estimate and its
 * output cap); nothing for a refusal before the call or an error answer (4xx, 5xx), which is not billed.
 */
export function spentOnFailure(
  error: unknown,
  reservation: { readonly inputTokens: number; readonly outputTokens: number },
): { readonly inputTokens: number; readonly outputTokens: number } | undefined {
  if (!isModelError(error)) return reservation;
  if (error.spent !== undefined) return error.spent;
  return PAID_FAILURES.has(error.code) ? reservation : undefined;
}
