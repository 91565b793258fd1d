import { ModelError } from "./errors.js";
import { BLOCK_SCHEMA, type Block, type Completion, NEUTRAL_LIMITS, type StopReason } from "./neutral.js";
import { containsSecret, REDACTED, scrub } from "./scrub.js";

/** Parses a provider's 2xx body as JSON, or says the provider sent something else. */
export function parseProviderJson(provider: string, body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new ModelError(
      "IC_MODEL_PROVIDER_RESPONSE",
      `provider ${provider}: expected a JSON response body, found ${body.length} bytes that do not parse`,
    );
  }
}

export function badResponse(provider: string, what: string, secrets: readonly string[]): ModelError {
  return new ModelError("IC_MODEL_PROVIDER_RESPONSE", scrub(`provider ${provider}: ${what}`, secrets));
}

/**
 * Checks a translated completion against the neutral schema, so the agent only ever receives what it
 * could itself have sent back: a provider's odd id or name, or more blocks than one assistant message
 * may hold, is refused here, not later. The usage is read first: a refused answer was still paid for.
 */
export function neutralCompletion(
  provider: string,
  content: readonly unknown[],
  stop: StopReason,
  inputTokens: unknown,
  outputTokens: unknown,
  secrets: readonly string[],
): Completion {
  const usage = {
    inputTokens: tokenCount(provider, inputTokens, secrets),
    outputTokens: tokenCount(provider, outputTokens, secrets),
  };
  const refuse = (what: string) =>
    new ModelError("IC_MODEL_PROVIDER_RESPONSE", badResponse(provider, what, secrets).message, {
      spent: usage,
    });
  if (content.length > NEUTRAL_LIMITS.blocksPerMessage)
    throw refuse(
      `expected at most ${NEUTRAL_LIMITS.blocksPerMessage} content blocks, found ${content.length}`,
    );
  const blocks: Block[] = [];
  for (const [index, item] of content.entries()) {
    const parsed = BLOCK_SCHEMA.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw refuse(`content ${index}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`);
    }
    blocks.push(parsed.data);
  }
  return { content: withoutSecrets(blocks, secrets), stop, usage };
}

function tokenCount(provider: string, value: unknown, secrets: readonly string[]): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw badResponse(
    provider,
    `expected token counts as non-negative integers, found ${JSON.stringify(value)}`,
    secrets,
  );
}

/**
 * A provider that echoes its key in a completion must not hand it to the agent. Keys are limited to
 * characters JSON never escapes, so removing them from the JSON text and parsing it again is exact.
 */
function withoutSecrets(blocks: Block[], secrets: readonly string[]): Block[] {
  const json = JSON.stringify(blocks);
  if (!containsSecret(json, secrets)) return blocks;
  let clean = json;
  for (const secret of secrets) if (secret !== "") clean = clean.split(secret).join(REDACTED);
  return JSON.parse(clean) as Block[];
}
