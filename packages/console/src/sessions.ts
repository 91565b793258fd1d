import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Principal } from "@ironclaw/gateway";

export interface Session {
  readonly id: string;
  readonly principal: Principal;
  /** Sent by the page in X-CSRF-Token on every state-changing request; never in a cookie. */
  readonly csrf: string;
  readonly expiresAt: number;
}

export const SESSION_COOKIE = "ic_console";
const MAX_SESSIONS = 256;

/**
 * Sessions live in memory only: a restart signs everyone out, and nothing secret lands on disk.
 * The cookie holds 256 random bits; the store is bounded, the oldest session going first.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  create(principal: Principal): Session {
    this.#sweep();
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const session: Session = {
      id: randomBytes(32).toString("base64url"),
      principal,
      csrf: randomBytes(32).toString("base64url"),
      expiresAt: this.#now() + this.#ttlMs,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session named by the Cookie header, or undefined (absent, unknown or expired). */
  fromCookieHeader(header: string | undefined): Session | undefined {
    const id = cookieValue(header, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(session: Session): void {
    this.#sessions.delete(session.id);
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(id);
  }
}

/** Whether the presented CSRF token is the session's, compared in constant time. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(presented, "utf8");
  const b = Buffer.from(session.csrf, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}
