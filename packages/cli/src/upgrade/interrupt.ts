import { rmSync } from "node:fs";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type Signal = (typeof SIGNALS)[number];

/** How long the work may take to wind down after a signal before the process exits regardless. */
const GRACE_MS = 5_000;

export interface Interruptible {
  /** Aborted when a signal arrives: every request and wait of the upgrade listens to it. */
  readonly signal: AbortSignal;
  /** Paths to remove if the process is stopped by a signal. */
  readonly temporary: Set<string>;
  /** Removes what was registered, and dies of the signal that came, if one did. */
  finish(): void;
}

/**
 * Makes Ctrl-C and TERM leave nothing behind: a signal aborts the work, which unwinds through its own
 * clean-up, and then the process dies of that same signal, as the shell expects. Should the work not
 * unwind in time, the registered paths are removed here and the process exits.
 */
export function interruptible(onExit: () => void): Interruptible {
  const controller = new AbortController();
  const temporary = new Set<string>();
  let received: Signal | undefined;
  const removeAll = () => {
    for (const path of temporary) rmSync(path, { recursive: true, force: true });
    temporary.clear();
    onExit();
  };
  const die = (signal: Signal) => {
    for (const name of SIGNALS) process.removeListener(name, handlers[name]);
    process.kill(process.pid, signal);
  };
  const handlers = Object.fromEntries(
    SIGNALS.map((name) => [
      name,
      () => {
        if (received !== undefined) return;
        received = name;
        controller.abort(new Error(`stopped by ${name}`));
        setTimeout(() => {
          removeAll();
          die(name);
        }, GRACE_MS).unref();
      },
    ]),
  ) as Record<Signal, () => void>;
  for (const name of SIGNALS) process.on(name, handlers[name]);
  return {
    signal: controller.signal,
    temporary,
    finish() {
      removeAll();
      if (received !== undefined) die(received);
      else for (const name of SIGNALS) process.removeListener(name, handlers[name]);
    },
  };
}
