import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { Principal } from "../src/principal.js";

/** Real directories, removed after each test. /dev/shm when present: real files, cheap fsync. */
export function temporaryDirectories(): (prefix?: string) => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (prefix = "ironclaw-gateway-") => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

export const OPERATOR: Principal = { id: "operator", role: "operator" };
export const SECOND_OPERATOR: Principal = { id: "operator-2", role: "operator" };
export const VIEWER: Principal = { id: "viewer", role: "viewer" };
export const agentPrincipal = (agent: string): Principal => ({ id: `agent:${agent}`, role: "agent", agent });

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse("2026-11-26T12:00:00.000Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}
