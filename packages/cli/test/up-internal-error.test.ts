import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandIo, run } from "@ironclaw/cli";
import { startControlPlane, verifyGatewayLog } from "@ironclaw/gateway";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Finding 8 of the adversarial audit: `up` stopped by an error of its own (here: its output cannot be
 * written) left without gateway.stopped, without a final checkpoint, and holding the lock.
 */
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe("ironclaw up, stopped by an internal error", () => {
  it("still closes the control plane: gateway.stopped, a final checkpoint, the lock released", async () => {
    const state = await mkdtemp(join(tmpdir(), "ironclaw-up-error-"));
    cleanup.push(() => rm(state, { recursive: true, force: true }));
    const io: CommandIo = {
      stdin: (async function* () {})(),
      stdout: {
        write: () => {
          throw new Error("EPIPE: the terminal went away");
        },
        isTTY: false,
      },
      stderr: { write: () => true, isTTY: false },
      env: {},
      cwd: state,
    };
    const listeners = [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const code = await run(["up", "--dev", "--listen", "127.0.0.1:0", "--no-agents", "--state", state], io);
    expect(code).not.toBe(0);
    // Its signal listeners went with it: a later SIGINT is not swallowed by an `up` that has ended.
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual(listeners);
    const records = (await readFile(join(state, "events.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { seq: number; type: string });
    expect(records.at(-1)?.type).toBe("gateway.stopped");
    const checkpoints = (await readFile(join(state, "checkpoints.jsonl"), "utf8")).trim().split("\n");
    expect((JSON.parse(checkpoints.at(-1) as string) as { seq: number }).seq).toBe(records.at(-1)?.seq);
    expect(await verifyGatewayLog({ dir: state })).toMatchObject({ ok: true });
    // The lock was released: the next start works.
    const again = await startControlPlane({ stateDir: state, dev: true, listen: "127.0.0.1:0" });
    await again.close();
  });
});
