import { describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { runCli } from "./helpers.js";

describe.skipIf(skipRealSandbox)("ironclaw sandbox selftest", () => {
  it("reports every invariant held against the real egress broker, and says contained", async () => {
    const result = await runCli(["sandbox", "selftest", "--json"], { cwd: process.cwd(), env: {} });
    const report = JSON.parse(result.stdout) as {
      verdict: string;
      invariants: { id: string; held: boolean; detail: string }[];
    };
    expect(report.invariants.filter((i) => !i.held)).toEqual([]);
    expect(report.verdict).toBe("contained");
    expect(result.code).toBe(0);
    const egress = report.invariants.find((i) => i.id === "egress-allowlist");
    expect(egress?.detail).not.toMatch(/placeholder/);
  }, 60_000);
});
