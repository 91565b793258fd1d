import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ControlPlane, type Principal, type SecurityEvent, startControlPlane } from "@ironclaw/gateway";
import { type ConsoleOptions, type ConsoleServer, startConsole } from "../src/index.js";

export const OPERATOR: Principal = { id: "operator", role: "operator" };

export interface Harness {
  readonly dir: string;
  readonly plane: ControlPlane;
  readonly console: ConsoleServer;
  readonly operatorToken: string;
  readonly viewerToken: string;
  readonly events: SecurityEvent[];
  /** Submits a change as the operator and returns it (held). */
  submit(kind: string, payload: Record<string, unknown>): Promise<{ id: string; digest: string }>;
  close(): Promise<void>;
}

/** A real control plane on loopback (dev) and a console in front of it, in a fresh state directory. */
export async function startHarness(
  extra: Partial<ConsoleOptions> = {},
  clock?: () => Date,
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-console-"));
  const plane = await startControlPlane({
    stateDir: dir,
    dev: true,
    listen: "127.0.0.1:0",
    ...(clock === undefined ? {} : { now: clock }),
    // A stand-in for the package store (tested in packages/package-store): every package verifies, and
    // has provenance unless the change says allowUnattested.
    packages: { check: async (request) => ({ ok: true, attested: request.allowUnattested !== true }) },
  });
  const events: Harness["events"] = [];
  const server = await startConsole({
    host: "127.0.0.1",
    port: 0,
    dev: true,
    gateway: plane.gateway,
    stateDir: dir,
    authenticate: plane.principals.authenticate,
    onSecurityEvent: (event) => events.push(event),
    ...extra,
  });
  const token = async (name: string) => (await readFile(join(dir, "tokens", `${name}.token`), "utf8")).trim();
  return {
    dir,
    plane,
    console: server,
    operatorToken: await token("operator"),
    viewerToken: await token("viewer"),
    events,
    async submit(kind, payload) {
      const result = await plane.gateway.submit(OPERATOR, { kind, payload });
      if (result.refusal !== undefined) throw new Error(`refused: ${result.refusal.reason}`);
      return result.change;
    },
    async close() {
      await server.close();
      await plane.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An agent `builder` that exists in the registry, so later changes have something to differ from. */
export async function withAgent(
  harness: Harness,
  persona: { name: string; instructions: string },
): Promise<void> {
  const created = await harness.submit("create_agent", { agent: "builder", persona });
  await harness.plane.gateway.approve(OPERATOR, created.id, { digest: created.digest });
}
