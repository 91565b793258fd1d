import type { Outcome, ProbeConfig, ProbeLine } from "./invariants.js";

export type Observation = Omit<ProbeLine, "invariant">;
export type Check = (config: ProbeConfig) => Observation | Promise<Observation>;

/** An error's code when it has one (ENOENT, ERR_ACCESS_DENIED…), else its message. */
export function why(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? error.message : String(error);
}

/** Runs a synchronous attempt: "ok" when it went through, otherwise why not. */
export function attempt(action: () => unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: action() };
  } catch (error) {
    return { ok: false, reason: why(error) };
  }
}

export function observe(observed: Outcome | "inconclusive", details: readonly string[]): Observation {
  return { observed, detail: details.join("; ") };
}
