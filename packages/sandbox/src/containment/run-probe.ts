import { launchSandbox } from "../launch.js";
import type { SandboxSpec } from "../spec.js";
import type { ProbeLine, RunName } from "./invariants.js";

export interface ProbeRun {
  readonly run: RunName;
  readonly lines: readonly ProbeLine[];
  readonly observations: readonly Readonly<Record<string, unknown>>[];
  /** The probe printed its last line and exited 0: it did not crash or hang part-way. */
  readonly finished: boolean;
  /** How the sandbox ended, for the report's details. */
  readonly exit: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 1 << 20;

function isProbeLine(value: Record<string, unknown>): value is Record<string, unknown> & ProbeLine {
  return (
    typeof value.invariant === "string" &&
    (value.observed === "denied" || value.observed === "allowed" || value.observed === "inconclusive") &&
    typeof value.detail === "string"
  );
}

/** Parses the probe's stdout; anything that is not one of its JSON lines is ignored. */
export function parseProbeOutput(stdout: string): Pick<ProbeRun, "lines" | "observations" | "finished"> {
  const lines: ProbeLine[] = [];
  const observations: Record<string, unknown>[] = [];
  let finished = false;
  for (const text of stdout.split("\n")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      continue;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
    const record = value as Record<string, unknown>;
    if (isProbeLine(record))
      lines.push({ invariant: record.invariant, observed: record.observed, detail: record.detail });
    else if (typeof record.observation === "string") observations.push(record);
    else if (typeof record.done === "string") finished = true;
  }
  return { lines, observations, finished };
}

/** Runs the probe once in a sandbox built from spec; never rejects: a failure is in `exit`. */
export function runProbe(spec: SandboxSpec, run: RunName, timeoutMs: number): Promise<ProbeRun> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const finish = (exit: string, clean: boolean) => {
      clearTimeout(timer);
      const parsed = parseProbeOutput(stdout);
      resolve({ run, ...parsed, finished: parsed.finished && clean, exit, stderr: stderr.slice(0, 4000) });
    };
    let child: ReturnType<typeof launchSandbox>;
    try {
      child = launchSandbox(spec, { stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      resolve({
        run,
        lines: [],
        observations: [],
        finished: false,
        exit: `not launched: ${String(error)}`,
        stderr: "",
      });
      return;
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk;
    });
    child.once("error", (error) => finish(`could not start: ${error.message}`, false));
    child.once("close", (code, signal) =>
      finish(
        timedOut
          ? `killed after ${timeoutMs} ms`
          : signal !== null
            ? `killed by ${signal}`
            : `exit code ${String(code)}`,
        !timedOut && code === 0,
      ),
    );
  });
}
