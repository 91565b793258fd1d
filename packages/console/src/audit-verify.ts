import { setTimeout as sleep } from "node:timers/promises";
import { type Gateway, type LogVerification, verifyGatewayLog } from "@ironclaw/gateway";

const RECHECKS = 5;
const RECHECK_MS = 200;

/**
 * `audit verify` for the page: the whole chain and every checkpoint, against the key the running
 * gateway signs with (not the one on disk, which an intruder could replace). A record still being
 * committed looks like a torn or unsigned tail, so those are looked at again a few times.
 */
export async function verifyRunningLog(gateway: Gateway, stateDir: string): Promise<LogVerification> {
  const verify = async () =>
    verifyGatewayLog({
      dir: stateDir,
      publicKeyPem: gateway.publicKeyPem(),
      keptCheckpoints: await gateway.checkpoints(),
    });
  let report = await verify();
  for (
    let attempt = 0;
    attempt < RECHECKS &&
    (report.failure?.code === "IC_AUDIT_TORN" || report.failure?.code === "IC_AUDIT_UNSIGNED");
    attempt++
  ) {
    await sleep(RECHECK_MS);
    report = await verify();
  }
  return report;
}

/** One verification at a time: it reads the whole log, and a page reloaded in a loop must not stack them. */
export class VerifyOnce {
  #running: Promise<LogVerification> | undefined;

  run(task: () => Promise<LogVerification>): Promise<LogVerification> {
    this.#running ??= task().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}
