/**
 * A test seam for crash safety: with IRONCLAW_FAILPOINT=<step>, the process announces the step on
 * stderr and stops there, so a test can SIGKILL it at exactly that point and check that the
 * installation survived. Without the variable it does nothing.
 */
export async function failpoint(step: string): Promise<void> {
  if (process.env.IRONCLAW_FAILPOINT !== step) return;
  process.stderr.write(`failpoint ${step}\n`);
  await new Promise(() => setInterval(() => {}, 1 << 30));
}
