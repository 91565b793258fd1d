import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe, why } from "./probe-util.js";

export function codeFromStrings(): Observation {
  // Indirect, so the bundler leaves it alone; what is tested is V8's code-generation switch.
  // biome-ignore lint/security/noGlobalEval: the probe must try eval to show that it is refused.
  const indirectEval = globalThis.eval;
  const evaluated = attempt(() => indirectEval("1 + 1"));
  const constructed = attempt(() => new Function("return 1")());
  return observe(evaluated.ok || constructed.ok ? "allowed" : "denied", [
    `eval: ${evaluated.ok ? `ran (${String(evaluated.value)})` : evaluated.reason}`,
    `new Function: ${constructed.ok ? "ran" : constructed.reason}`,
  ]);
}

// Refusals by the runtime. Any other outcome means the dynamic loader was reached.
const REFUSED = new Set(["ERR_DLOPEN_DISABLED", "ERR_ACCESS_DENIED"]);

export function nativeAddon(config: ProbeConfig): Observation {
  const opened = attempt(() => process.dlopen({ exports: {} }, config.fakeAddon));
  const required = attempt(() => createRequire(import.meta.url)(config.fakeAddon));
  const reached = [opened, required].some((result) => result.ok || !REFUSED.has(result.reason));
  return observe(reached ? "allowed" : "denied", [
    `process.dlopen: ${opened.ok ? "loaded" : opened.reason}`,
    `require: ${required.ok ? "loaded" : required.reason}`,
  ]);
}

export function worker(): Promise<Observation> {
  return new Promise((resolve) => {
    let thread: Worker;
    try {
      thread = new Worker("0", { eval: true });
    } catch (error) {
      resolve(observe("denied", [`new Worker: ${why(error)}`]));
      return;
    }
    const done = (observed: "allowed" | "denied", what: string) => {
      clearTimeout(timer);
      void thread.terminate();
      resolve(observe(observed, [`new Worker: ${what}`]));
    };
    const timer = setTimeout(() => done("allowed", "constructed, not yet online"), 3000);
    thread.once("online", () => done("allowed", "online"));
    thread.once("error", (error) =>
      done(REFUSED.has(why(error)) ? "denied" : "allowed", `constructed, then ${why(error)}`),
    );
  });
}
