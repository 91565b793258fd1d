import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../src/control-plane.js";
import { Gateway } from "../../src/gateway.js";
import { verifyEventLog } from "../../src/log/index.js";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../../src/registry.js";

/**
 * Random sequences of API calls by random callers never change the registry, except by applying a
 * change that an operator approved with its digest; and then by exactly that change.
 */
type Who = "none" | "wrong" | "viewer" | "alpha" | "beta" | "operator";
const CALLERS: readonly Who[] = ["none", "wrong", "viewer", "alpha", "beta", "operator"];
const AGENTS = ["alpha", "beta", "gamma"] as const;
const HOSTS = ["a.example.com", "b.example.com", "*.example.com", "10.0.0.1", "EXAMPLE.com"] as const;

let plane: ControlPlane;
let stateDir: string;
let tokens: Partial<Record<Who, string>>;
/** What each change's requester sent, by id: the model applies exactly this when it is approved. */
const submitted = new Map<string, { kind: string; payload: unknown; digest: string }>();
const ids: string[] = [];
let model: Registry = EMPTY_REGISTRY;

async function send(who: Who, method: string, path: string, body?: unknown) {
  const token = who === "none" ? undefined : who === "wrong" ? `ic_agent_${"B".repeat(43)}` : tokens[who];
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const payloadArb = fc.oneof(
  fc.record({ kind: fc.constant("create_agent"), payload: fc.record({ agent: fc.constantFrom(...AGENTS) }) }),
  fc.record({
    kind: fc.constant("enabled_tools"),
    payload: fc.record({
      agent: fc.constantFrom(...AGENTS),
      tools: fc.uniqueArray(fc.constantFrom("read_file", "http_fetch", "shell_exec"), { maxLength: 3 }),
    }),
  }),
  fc.record({
    kind: fc.constant("egress"),
    payload: fc.record({
      agent: fc.constantFrom(...AGENTS),
      action: fc.constantFrom("allow", "revoke"),
      host: fc.constantFrom(...HOSTS),
      port: fc.constantFrom(443, 8443),
    }),
  }),
  fc.record({
    kind: fc.constant("persona"),
    payload: fc.record({
      agent: fc.constantFrom(...AGENTS),
      persona: fc.record({ name: fc.constantFrom("p", "q"), instructions: fc.string({ maxLength: 8 }) }),
    }),
  }),
  fc.record({
    kind: fc.constant("wiring"),
    payload: fc.record({
      agent: fc.constantFrom(...AGENTS),
      peers: fc.uniqueArray(fc.constantFrom(...AGENTS)),
    }),
  }),
  fc.record({
    kind: fc.constant("permissions"),
    payload: fc.record({
      agent: fc.constantFrom(...AGENTS),
      grants: fc.uniqueArray(
        fc.constantFrom(
          "changes.request",
          "messages.send",
          "messages.read",
          "workspace.read",
          "workspace.write",
        ),
      ),
    }),
  }),
  fc.record({
    kind: fc.constant("model"),
    payload: fc.oneof(
      fc.record({
        agent: fc.constantFrom(...AGENTS),
        action: fc.constant("set"),
        provider: fc.constantFrom("mock", "openai", "constructor"),
        model: fc.constantFrom("mock-1", "mock-2", "mock\u200b"),
        maxOutputTokens: fc.constantFrom(1, 200_000, 0),
        dailyTokens: fc.constantFrom(1, 1000),
      }),
      fc.record({ agent: fc.constantFrom(...AGENTS), action: fc.constant("revoke") }),
    ),
  }),
  // Junk: unknown kinds and fields, a forged requester or state.
  fc.record({
    kind: fc.constantFrom("root", "persona"),
    payload: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()),
  }),
  fc.record({
    kind: fc.constant("egress"),
    payload: fc.constant({ agent: "alpha", action: "allow", host: "a.example.com", port: 443 }),
    state: fc.constant("applied"),
    requester: fc.constant("operator"),
  }),
);

const actionArb = fc.oneof(
  fc.record({ type: fc.constant("submit" as const), who: fc.constantFrom(...CALLERS), request: payloadArb }),
  fc.record({
    type: fc.constant("decide" as const),
    who: fc.constantFrom(...CALLERS),
    action: fc.constantFrom("approve", "reject", "cancel", "retry"),
    pick: fc.nat(),
    digest: fc.constantFrom("right", "wrong", "other", "missing"),
  }),
  fc.record({
    type: fc.constant("raw" as const),
    who: fc.constantFrom(...CALLERS),
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
    path: fc.constantFrom(
      "/v1/registry",
      "/v1/registry/agents/alpha",
      "/v1/changes",
      "/v1/audit",
      "/v1/changes/c1/approve",
    ),
    body: fc.option(
      fc.oneof(
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 20 }),
      ),
      { nil: undefined },
    ),
  }),
);

type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never;

async function perform(action: Action): Promise<void> {
  const before = plane.gateway.registry;
  let appliedId: string | undefined;
  if (action.type === "submit") {
    const { status, json } = await send(action.who, "POST", "/v1/changes", action.request);
    const change = json.change as { id: string; digest: string; state: string } | undefined;
    if (change !== undefined && !submitted.has(change.id)) {
      submitted.set(change.id, {
        kind: action.request.kind,
        payload: action.request.payload,
        digest: change.digest,
      });
      ids.push(change.id);
      expect([201, 422]).toContain(status);
      expect(change.state).toBe(status === 201 ? "pending" : "rejected");
    }
  } else if (action.type === "decide") {
    const id = ids.length === 0 ? "c1" : (ids[action.pick % ids.length] as string);
    const own = submitted.get(id)?.digest;
    const other = submitted.get(ids[(action.pick + 1) % Math.max(ids.length, 1)] ?? "")?.digest;
    const digest = { right: own, wrong: `sha256:${"e".repeat(64)}`, other, missing: undefined }[
      action.digest
    ];
    const body =
      action.action === "approve"
        ? digest === undefined
          ? {}
          : { digest }
        : action.action === "reject"
          ? { reason: "no" }
          : {};
    const { status, json } = await send(action.who, "POST", `/v1/changes/${id}/${action.action}`, body);
    const state = (json.change as { state?: string } | undefined)?.state;
    if (status === 200 && state === "applied") {
      expect(action.who).toBe("operator");
      if (action.action === "approve") expect(digest).toBe(own);
      appliedId = id;
    }
  } else {
    await send(action.who, action.method, action.path, action.method === "GET" ? undefined : action.body);
  }
  if (appliedId !== undefined) {
    const sent = submitted.get(appliedId);
    model = foldRegistry(model, {
      type: "change.applied",
      id: appliedId,
      kind: sent?.kind,
      payload: sent?.payload,
    });
  } else {
    // Nothing was applied, so nothing may have changed: not even a new object.
    expect(plane.gateway.registry).toBe(before);
  }
  expect(plane.gateway.registry).toEqual(model);
}

beforeAll(async () => {
  // Real files; on tmpfs when there is one, so 1,000 runs do not wait on a disk's fsync.
  stateDir = await mkdtemp(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "ironclaw-no-bypass-"));
  plane = await startControlPlane({
    stateDir,
    dev: true,
    listen: "127.0.0.1:0",
    pendingCap: 1_000_000,
    pendingTotalCap: 1_000_000,
    limits: { failedAuthPerWindow: 1_000_000 },
  });
  const read = async (name: string) => (await readFile(join(stateDir, "tokens", name), "utf8")).trim();
  tokens = { operator: await read("operator.token"), viewer: await read("viewer.token") };
  for (const agent of ["alpha", "beta"] as const) {
    const { json } = await send("operator", "POST", "/v1/changes", {
      kind: "create_agent",
      payload: { agent },
    });
    const change = json.change as { id: string; digest: string };
    await send("operator", "POST", `/v1/changes/${change.id}/approve`, { digest: change.digest });
    model = foldRegistry(model, {
      type: "change.applied",
      id: change.id,
      kind: "create_agent",
      payload: { agent },
    });
    tokens[agent] = await read(`agent-${agent}.token`);
  }
});

afterAll(async () => {
  await plane?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe("no bypass path", () => {
  it("changes the registry only by applying an operator-approved change with its digest (1,000 runs)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 12 }), async (actions) => {
        for (const action of actions) await perform(action);
      }),
      { numRuns: 1000 },
    );
    // The log alone rebuilds the same registry, and its chain holds.
    await plane.close();
    const reopened = await Gateway.open({ stateDir });
    expect(reopened.registry).toEqual(model);
    await reopened.close();
    expect((await verifyEventLog({ dir: stateDir })).ok).toBe(true);
  }, 600_000);
});
