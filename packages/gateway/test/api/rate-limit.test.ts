import { describe, expect, it } from "vitest";
import { FailedAuthLimiter } from "../../src/api/rate-limit.js";

function limiter(options: { maxTracked?: number } = {}) {
  let now = 1_000_000;
  const limit = new FailedAuthLimiter({
    failuresPerWindow: 10,
    windowMs: 60_000,
    now: () => now,
    ...options,
  });
  return { limit, advance: (ms: number) => (now += ms) };
}

describe("FailedAuthLimiter", () => {
  it("refuses an address after 10 failures within the window, until the window has passed", () => {
    const { limit, advance } = limiter();
    for (let i = 0; i < 9; i++) limit.recordFailure("100.64.0.1");
    expect(limit.check("100.64.0.1")).toEqual({ limited: false });
    limit.recordFailure("100.64.0.1");
    expect(limit.check("100.64.0.1")).toEqual({ limited: true, retryAfterSeconds: 60, firstRefusal: true });
    advance(59_001);
    expect(limit.check("100.64.0.1")).toEqual({ limited: true, retryAfterSeconds: 1, firstRefusal: false });
    expect(limit.check("100.64.0.2")).toEqual({ limited: false });
    advance(999);
    expect(limit.check("100.64.0.1")).toEqual({ limited: false });
    expect(limit.trackedAddresses).toBe(0);
  });

  it("does not count failures from an earlier window", () => {
    const { limit, advance } = limiter();
    for (let i = 0; i < 9; i++) limit.recordFailure("100.64.0.1");
    advance(60_000);
    limit.recordFailure("100.64.0.1");
    expect(limit.check("100.64.0.1").limited).toBe(false);
  });

  it("counts each address separately", () => {
    const { limit } = limiter();
    for (let i = 0; i < 10; i++) limit.recordFailure(`100.64.0.${i}`);
    for (let i = 0; i < 10; i++) expect(limit.check(`100.64.0.${i}`).limited).toBe(false);
  });

  it("tracks at most maxTracked addresses, forgetting the oldest", () => {
    const { limit } = limiter({ maxTracked: 3 });
    for (let i = 0; i < 10; i++) limit.recordFailure("100.64.0.1");
    for (let i = 2; i <= 6; i++) limit.recordFailure(`100.64.0.${i}`);
    expect(limit.trackedAddresses).toBe(3);
    expect(limit.check("100.64.0.1").limited).toBe(false); // evicted: the price of bounded memory
  });

  it("refuses nonsense options", () => {
    expect(() => new FailedAuthLimiter({ failuresPerWindow: 0 })).toThrow(RangeError);
    expect(() => new FailedAuthLimiter({ windowMs: 1.5 })).toThrow(RangeError);
  });
});
