import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ControlPlane, startControlPlane } from "../../src/control-plane.js";
import { GatewayError } from "../../src/errors.js";
import { temporaryDirectories } from "../helpers.js";

type Who = "none" | "wrong" | "viewer" | "agent" | "operator";
const WHO: readonly Who[] = ["none", "wrong", "viewer", "agent", "operator"];

interface Case {
  readonly name: string;
  readonly expected: readonly [number, number, number, number, number];
  /** Builds the request; may set up a fresh change first, so each cell is independent. */
  request(): Promise<{ method: "GET" | "POST"; path: string; body?: unknown }>;
}

const newDir = temporaryDirectories();
let plane: ControlPlane;
let stateDir: string;
let tokens: Record<"viewer" | "agent" | "operator", string>;

async function send(who: Who, method: string, path: string, body?: unknown): Promise<Response> {
  const token = who === "none" ? undefined : who === "wrong" ? `ic_operator_${"A".repeat(43)}` : tokens[who];
  return fetch(`${plane.url}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function asOperator(method: string, path: string, body?: unknown) {
  const response = await send("operator", method, path, body);
  const json = (await response.json()) as { change: { id: string; digest: string } };
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json.change;
}

/** A fresh pending change requested by agent alpha (so alpha may cancel it). */
async function freshChange(): Promise<{ id: string; digest: string }> {
  const response = await send("agent", "POST", "/v1/changes", {
    kind: "wiring",
    payload: { agent: "alpha", peers: [] },
  });
  const json = (await response.json()) as { change: { id: string; digest: string } };
  return json.change;
}

beforeAll(async () => {
  // Shared by every test of the file, so made here rather than per test.
  stateDir = await mkdtemp(join(tmpdir(), "ironclaw-auth-matrix-"));
  const dir = stateDir;
  plane = await startControlPlane({
    stateDir: dir,
    dev: true,
    listen: "127.0.0.1:0",
    pendingCap: 1000,
    pendingTotalCap: 1000,
    // Every refused cell comes from 127.0.0.1: the limiter has its own test; here it must not interfere.
    limits: { failedAuthPerWindow: 10_000 },
  });
  const read = async (name: string) => (await readFile(join(dir, "tokens", name), "utf8")).trim();
  tokens = { viewer: await read("viewer.token"), operator: await read("operator.token"), agent: "" };
  for (const agent of ["alpha", "beta"]) {
    const created = await asOperator("POST", "/v1/changes", { kind: "create_agent", payload: { agent } });
    await asOperator("POST", `/v1/changes/${created.id}/approve`, { digest: created.digest });
  }
  tokens.agent = await read("agent-alpha.token");
});

afterAll(async () => {
  await plane.close();
  await rm(stateDir, { recursive: true, force: true });
});

const CASES: readonly Case[] = [
  {
    name: "GET /healthz",
    expected: [200, 200, 200, 200, 200],
    request: async () => ({ method: "GET", path: "/healthz" }),
  },
  {
    name: "GET /readyz",
    expected: [200, 200, 200, 200, 200],
    request: async () => ({ method: "GET", path: "/readyz" }),
  },
  {
    name: "submit",
    expected: [401, 401, 403, 201, 201],
    request: async () => ({
      method: "POST",
      path: "/v1/changes",
      body: { kind: "persona", payload: { agent: "alpha", persona: { name: "p", instructions: "" } } },
    }),
  },
  {
    name: "submit for another agent",
    expected: [401, 401, 403, 403, 201],
    request: async () => ({
      method: "POST",
      path: "/v1/changes",
      body: { kind: "persona", payload: { agent: "beta", persona: { name: "p", instructions: "" } } },
    }),
  },
  {
    name: "list",
    expected: [401, 401, 200, 200, 200],
    request: async () => ({ method: "GET", path: "/v1/changes" }),
  },
  {
    name: "show",
    expected: [401, 401, 200, 200, 200],
    request: async () => ({ method: "GET", path: `/v1/changes/${(await freshChange()).id}` }),
  },
  {
    name: "show another's change",
    expected: [401, 401, 200, 404, 200],
    request: async () => ({ method: "GET", path: "/v1/changes/c1" }),
  },
  {
    name: "approve",
    expected: [401, 401, 403, 403, 200],
    request: async () => {
      const change = await freshChange();
      return { method: "POST", path: `/v1/changes/${change.id}/approve`, body: { digest: change.digest } };
    },
  },
  {
    name: "reject",
    expected: [401, 401, 403, 403, 200],
    request: async () => ({
      method: "POST",
      path: `/v1/changes/${(await freshChange()).id}/reject`,
      body: { reason: "no" },
    }),
  },
  {
    name: "cancel",
    expected: [401, 401, 403, 200, 200],
    request: async () => ({
      method: "POST",
      path: `/v1/changes/${(await freshChange()).id}/cancel`,
      body: {},
    }),
  },
  {
    name: "retry (of a change that did not fail)",
    expected: [401, 401, 403, 403, 409],
    request: async () => ({
      method: "POST",
      path: `/v1/changes/${(await freshChange()).id}/retry`,
      body: {},
    }),
  },
  {
    name: "audit",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/audit" }),
  },
  {
    name: "audit head",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/audit/head" }),
  },
  {
    name: "checkpoints",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/audit/checkpoints" }),
  },
  {
    name: "registry",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/registry" }),
  },
  {
    name: "own agent",
    expected: [401, 401, 200, 200, 200],
    request: async () => ({ method: "GET", path: "/v1/registry/agents/alpha" }),
  },
  {
    name: "another agent",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/registry/agents/beta" }),
  },
  {
    name: "message an agent",
    expected: [401, 401, 403, 403, 201],
    request: async () => ({ method: "POST", path: "/v1/agents/alpha/messages", body: { text: "hello" } }),
  },
  {
    name: "read an agent's messages",
    expected: [401, 401, 200, 403, 200],
    request: async () => ({ method: "GET", path: "/v1/agents/alpha/messages?direction=in" }),
  },
  {
    name: "unknown route",
    expected: [401, 401, 404, 404, 404],
    request: async () => ({ method: "GET", path: "/v1/admin" }),
  },
];

describe("every route × every caller", () => {
  for (const testCase of CASES) {
    it(`${testCase.name}: ${WHO.map((w, i) => `${w} ${testCase.expected[i]}`).join(", ")}`, async () => {
      const observed: number[] = [];
      for (const who of WHO) {
        const { method, path, body } = await testCase.request();
        const response = await send(who, method, path, body);
        observed.push(response.status);
        if (response.status === 401) expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      }
      expect(observed).toEqual(testCase.expected);
    });
  }

  it("records the caller the token names, never a name from the body", async () => {
    const response = await send("agent", "POST", "/v1/changes", {
      kind: "wiring",
      payload: { agent: "alpha", peers: [] },
      requester: "operator",
    });
    expect(response.status).toBe(400);
    const accepted = await send("agent", "POST", "/v1/changes", {
      kind: "wiring",
      payload: { agent: "alpha", peers: [] },
    });
    const { change } = (await accepted.json()) as { change: { requester: string } };
    expect(change.requester).toBe("agent:alpha");
  });
});

describe("where the control plane may listen", () => {
  it.each([
    ["0.0.0.0:7878", true],
    ["[::]:7878", true],
    ["192.168.1.10:7878", true],
    ["8.8.8.8:7878", true],
    ["100.100.100.100:7878", true],
    ["127.0.0.1:0", false],
  ])("refuses %s (dev %s) before touching the state directory", async (listen, dev) => {
    const dir = join(await newDir("ironclaw-bind-"), "state");
    const error = await startControlPlane({ stateDir: dir, dev, listen }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe("IC_API_BIND_REFUSED");
    await expect(access(dir)).rejects.toThrow();
  });
});
