import { sandboxSupport } from "../src/support.js";

const support = await sandboxSupport();

/**
 * Real-sandbox tests skip only where bwrap cannot run, and never in CI: a runner that cannot make
 * namespaces must fail them, not pass them by skipping.
 */
export const skipRealSandbox = !support.ok && process.env.CI === undefined;
export const supportReason = support.reason ?? "";

if (skipRealSandbox) console.warn(`real-sandbox tests SKIPPED: ${supportReason}`);
