/**
 * A test seam for crash safety and races: with IRONCLAW_FAILPOINT=<step>, the process announces the
 * step on stderr and waits there, so a test can SIGKILL it at exactly that point and check that the
 * installation survived, or let it go on with SIGUSR2 (to run another upgrade in between, say).
 * Without the variable it does nothing.
 */
export async function failpoint(step: string): Promise<void> {
  if (process.env.IRONCLAW_FAILPOINT !== step) return;
  process.stderr.write(`failpoint ${step}\n`);
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    process.once("SIGUSR2", () => {
      clearInterval(keepAlive);
      resolve();
    });
  });
}
