import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyGatewayLog } from "@ironclaw/gateway";
import { afterAll, describe, expect, it } from "vitest";

const bin = new URL("../bin/ironclaw.js", import.meta.url).pathname;
const states: string[] = [];
afterAll(() => {
  for (const state of states) rmSync(state, { recursive: true, force: true });
});

/** Starts `up`, sends SIGTERM after `delay` ms, and says how it ended. */
function upStoppedAfter(
  delay: number,
): Promise<{ state: string; code: number | null; signal: string | null }> {
  const state = mkdtempSync(join(tmpdir(), "ironclaw-up-signal-"));
  states.push(state);
  const child = spawn(
    process.execPath,
    [bin, "up", "--dev", "--listen", "127.0.0.1:0", "--no-agents", "--json", "--state", state],
    { stdio: "ignore" },
  );
  const timer = setTimeout(() => child.kill("SIGTERM"), delay);
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ state, code, signal });
    }),
  );
}

describe("ironclaw up, sent SIGTERM while it starts", () => {
  it("never dies of it once it has touched its state: it starts, then stops cleanly, lock released", async () => {
    // The delays sweep the start-up, so some land after the lock is taken and before `up` is running
    // (on this machine, about 100-180 ms after the spawn); before the fix those died of the signal.
    let startedThenStopped = 0;
    for (let delay = 40; delay <= 400; delay += 20) {
      const { state, code, signal } = await upStoppedAfter(delay);
      const log = join(state, "events.jsonl");
      if (signal !== null) {
        // Killed before any code of ours listened: it must not have begun to change the state.
        expect(signal).toBe("SIGTERM");
        expect(existsSync(log), `killed at ${delay} ms after touching the state`).toBe(false);
        continue;
      }
      expect(code, `delay ${delay} ms`).toBe(0);
      expect(existsSync(join(state, "gateway.lock")), `lock left at ${delay} ms`).toBe(false);
      expect(existsSync(join(state, "api.json")), `api.json left at ${delay} ms`).toBe(false);
      const records = readFileSync(log, "utf8").trim().split("\n");
      expect((JSON.parse(records.at(-1) as string) as { type: string }).type).toBe("gateway.stopped");
      expect(await verifyGatewayLog({ dir: state })).toMatchObject({ ok: true });
      startedThenStopped += 1;
    }
    expect(startedThenStopped).toBeGreaterThan(0);
  }, 60_000);
});
