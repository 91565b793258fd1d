import { INVARIANTS, type InvariantDefinition, type Outcome, type RunName } from "./invariants.js";
import type { ProbeRun } from "./run-probe.js";

export const CONTAINMENT_SCHEMA = "https://ironclaw.dev/schemas/containment/v1";

/** "missing": the probe printed nothing for it (crashed, hung, never got there). */
export type Observed = Outcome | "inconclusive" | "missing";

export interface InvariantResult {
  readonly id: string;
  readonly description: string;
  readonly expected: Outcome;
  readonly observed: Observed;
  readonly detail: string;
  readonly held: boolean;
}

export type Verdict = "contained" | "breached";

/**
 * One run's observation of one invariant. Several lines for one id count as their worst. A run that
 * crashed or hung is not trusted even for what it printed before: its lines become "inconclusive".
 */
function observedIn(
  definition: InvariantDefinition,
  run: ProbeRun | undefined,
): { observed: Observed; detail: string } {
  if (run === undefined) return { observed: "missing", detail: "the run did not take place" };
  const lines = run.lines.filter((line) => line.invariant === definition.id);
  const stderrLines = run.stderr.split("\n").map((line) => line.trim());
  const stderr =
    stderrLines.find((line) => /Error\b/.test(line)) ?? stderrLines.find((line) => line !== "") ?? "";
  const crashed = `the probe did not finish (${run.exit})${stderr === "" ? "" : `: ${stderr}`}`;
  if (lines.length === 0)
    return { observed: "missing", detail: run.finished ? "the probe printed nothing for it" : crashed };
  const worst = lines.find((line) => line.observed !== definition.expected) ?? lines[0];
  const observed = worst?.observed ?? "missing";
  const detail = worst?.detail ?? "";
  if (!run.finished)
    return { observed: "inconclusive", detail: `${crashed}; it had printed ${observed} (${detail})` };
  return { observed, detail };
}

// Which failure to name when runs disagree: the opposite outcome says most.
const SEVERITY: Readonly<Record<Observed, number>> = { allowed: 0, denied: 0, missing: 1, inconclusive: 2 };

/**
 * Judges every invariant: it holds only if each run it names observed exactly what is expected.
 * Fails closed: a missing run, a missing line or an inconclusive attempt is not held.
 */
export function judge(
  runs: ReadonlyMap<RunName, ProbeRun>,
  definitions: readonly InvariantDefinition[] = INVARIANTS,
): InvariantResult[] {
  return definitions.map((definition) => {
    const seen = definition.runs.map((name) => ({ name, ...observedIn(definition, runs.get(name)) }));
    const failures = seen.filter((entry) => entry.observed !== definition.expected);
    const held = seen.length > 0 && failures.length === 0;
    const named = [...failures].sort((a, b) => SEVERITY[a.observed] - SEVERITY[b.observed])[0];
    return {
      id: definition.id,
      description: definition.description,
      expected: definition.expected,
      observed: named === undefined ? definition.expected : named.observed,
      detail: seen.map((entry) => `${entry.name}: ${entry.observed} (${entry.detail})`).join(" | "),
      held,
    };
  });
}

export function verdictOf(results: readonly InvariantResult[]): Verdict {
  return results.length > 0 && results.every((result) => result.held) ? "contained" : "breached";
}
