import { describe, expect, it } from "vitest";
import { type McpAuditEvent, startMcpBroker } from "../src/index.js";

// A compromised agent calling names it was never approved, as fast as it can: each is refused, and
// the host's audit log grows by a bounded number of records, not one per call.
describe("an agent flooding the broker with calls it was never approved", () => {
  it("is refused each time, audited one by one only up to the window's bound, then counted", async () => {
    const events: McpAuditEvent[] = [];
    const broker = startMcpBroker({
      servers: () => [],
      audit: (event) => {
        events.push(event);
      },
      limits: { refusalsPerWindow: 4, refusalWindowMs: 300 },
    });
    const names = ["__proto__", "constructor", "mcp__srv__echo", "mcp__srv__echo\u200b", "toString"];
    for (let i = 0; i < 50; i += 1) {
      const result = await broker.call("alpha", names[i % names.length] as string, {});
      expect(result).toMatchObject({ ok: false, code: "IC_MCP_UNKNOWN_TOOL" });
    }
    expect(events).toHaveLength(4);
    expect(events.map((e) => e.tool)).toEqual(names.slice(0, 4));
    // Another agent has its own window.
    await broker.call("beta", "x", {});
    expect(events.at(-1)).toMatchObject({ agent: "beta", reason: "IC_MCP_UNKNOWN_TOOL" });

    await new Promise((resolve) => setTimeout(resolve, 350));
    await broker.call("alpha", "again", []);
    expect(events.slice(-2)).toMatchObject([
      { agent: "alpha", decision: "refused", reason: "IC_MCP_REFUSALS_COUNTED", count: 46 },
      { agent: "alpha", tool: "again", reason: "IC_MCP_UNKNOWN_TOOL" },
    ]);
    for (let i = 0; i < 10; i += 1) await broker.call("alpha", "again", {});
    // What is still counted when the broker closes is written then.
    await broker.close();
    expect(events.at(-1)).toMatchObject({ agent: "alpha", reason: "IC_MCP_REFUSALS_COUNTED", count: 7 });
  });
});
