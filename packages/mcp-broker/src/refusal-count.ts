/**
 * Bounds how many of an agent's refused calls that reached no server (an unknown tool name, arguments
 * that are not a JSON object) are audited one by one: the agent is untrusted and may not grow the
 * host's log at will. Past `perWindow` in a window they are counted; the count is written as one
 * record at the agent's next such refusal after the window, or when the broker closes.
 */
export class RefusalCount {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; written: number; counted: number }>();

  constructor(perWindow: number, windowMs: number, now: () => number = Date.now) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** `write`: audit this refusal; `ended`: refusals counted in the agent's window that just ended. */
  take(agent: string): { readonly write: boolean; readonly ended: number } {
    const now = this.#now();
    let window = this.#windows.get(agent);
    let ended = 0;
    if (window === undefined || now - window.start >= this.#windowMs) {
      ended = window?.counted ?? 0;
      window = { start: now, written: 0, counted: 0 };
      this.#windows.set(agent, window);
    }
    if (window.written < this.#perWindow) {
      window.written += 1;
      return { write: true, ended };
    }
    window.counted += 1;
    return { write: false, ended };
  }

  /** Every agent's count not yet written; the windows are forgotten. */
  drain(): [string, number][] {
    const left = [...this.#windows].flatMap(([agent, w]) =>
      w.counted > 0 ? [[agent, w.counted] as [string, number]] : [],
    );
    this.#windows.clear();
    return left;
  }
}
