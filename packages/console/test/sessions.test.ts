import { describe, expect, it } from "vitest";
import { csrfMatches, SESSION_COOKIE, SessionStore } from "../src/sessions.js";

const operator = { id: "operator", role: "operator" } as const;

describe("console sessions", () => {
  it("keeps at most 256, dropping the oldest first", () => {
    const store = new SessionStore(60_000, () => 0);
    const first = store.create(operator);
    const second = store.create(operator);
    for (let i = 0; i < 254; i++) store.create(operator);
    expect(store.fromCookieHeader(`${SESSION_COOKIE}=${first.id}`)).toBe(first);
    store.create(operator);
    expect(store.fromCookieHeader(`${SESSION_COOKIE}=${first.id}`)).toBeUndefined();
    expect(store.fromCookieHeader(`${SESSION_COOKIE}=${second.id}`)).toBe(second);
  });

  it("finds a session only by its exact, well-formed cookie", () => {
    const store = new SessionStore(60_000, () => 0);
    const session = store.create(operator);
    expect(store.fromCookieHeader(`a=b; ${SESSION_COOKIE}=${session.id}; c=d`)).toBe(session);
    for (const header of [
      undefined,
      "",
      `${SESSION_COOKIE}=${session.id}x`,
      `${SESSION_COOKIE}=${session.id.slice(1)}`,
      `x${SESSION_COOKIE}=${session.id}`,
      `${SESSION_COOKIE}=__proto__`,
      `${SESSION_COOKIE}=constructor`,
      `${SESSION_COOKIE}=${session.id}; ${"x".repeat(9000)}`,
    ]) {
      expect(store.fromCookieHeader(header)).toBeUndefined();
    }
  });

  it("compares CSRF tokens exactly, whatever their length", () => {
    const session = new SessionStore(60_000, () => 0).create(operator);
    expect(csrfMatches(session, session.csrf)).toBe(true);
    expect(csrfMatches(session, undefined)).toBe(false);
    expect(csrfMatches(session, "")).toBe(false);
    expect(csrfMatches(session, `${session.csrf}x`)).toBe(false);
    expect(csrfMatches(session, session.csrf.toUpperCase())).toBe(false);
  });
});
