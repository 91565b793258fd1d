import { describe, expect, it } from "vitest";
import { createMemoryLedger, type ModelCallEvent, seedLedger, utcDay } from "../src/index.js";

const event = (agent: string, inputTokens: number, outputTokens: number): ModelCallEvent => ({
  type: "model.call",
  agent,
  provider: "mock",
  model: "mock-1",
  inputTokens,
  outputTokens,
  durationMs: 1,
  status: 200,
});

describe("the usage ledger", () => {
  it("counts per agent and UTC day", () => {
    const ledger = createMemoryLedger();
    ledger.add("demo", "2026-12-04", 10);
    ledger.add("demo", "2026-12-04", 5);
    ledger.add("demo", "2026-12-05", 7);
    ledger.add("other", "2026-12-04", 1);
    expect(ledger.used("demo", "2026-12-04")).toBe(15);
    expect(ledger.used("demo", "2026-12-05")).toBe(7);
    expect(ledger.used("nobody", "2026-12-04")).toBe(0);
  });

  it("keeps Object.prototype names as ordinary agents", () => {
    const ledger = createMemoryLedger();
    expect(ledger.used("constructor", "2026-12-04")).toBe(0);
    expect(ledger.used("__proto__", "2026-12-04")).toBe(0);
    ledger.add("__proto__", "2026-12-04", 3);
    expect(ledger.used("__proto__", "2026-12-04")).toBe(3);
  });

  it("refuses a count that is not a whole non-negative number", () => {
    const ledger = createMemoryLedger();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => ledger.add("demo", "2026-12-04", bad)).toThrow(RangeError);
    }
    expect(ledger.used("demo", "2026-12-04")).toBe(0);
  });

  it("names days in UTC, whatever the local zone", () => {
    expect(utcDay(new Date("2026-12-04T23:59:59.999Z"))).toBe("2026-12-04");
    expect(utcDay(new Date("2026-12-05T00:30:00+01:00"))).toBe("2026-12-04");
  });

  it("is seeded from audit records, each on its own day", () => {
    const ledger = createMemoryLedger();
    seedLedger(ledger, [
      { at: new Date("2026-12-04T10:00:00Z"), event: event("demo", 100, 20) },
      { at: new Date("2026-12-04T11:00:00Z"), event: event("demo", 30, 0) },
      { at: new Date("2026-12-03T11:00:00Z"), event: event("demo", 999, 1) },
      { at: new Date("2026-12-04T11:00:00Z"), event: event("other", 5, 5) },
    ]);
    expect(ledger.used("demo", "2026-12-04")).toBe(150);
    expect(ledger.used("demo", "2026-12-03")).toBe(1000);
    expect(ledger.used("other", "2026-12-04")).toBe(10);
  });
});
