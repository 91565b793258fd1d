import { describe, expect, it } from "vitest";
import { PAYLOAD_SCHEMAS } from "../../src/changes/kinds.js";
import { COMPILED_IN_TOOLS } from "../../src/changes/tools.js";
import {
  type ProposedChange,
  runVerifierChain,
  VERIFIERS,
  type VerifierContext,
} from "../../src/changes/verifiers.js";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../../src/registry.js";

function registryWith(...names: string[]): Registry {
  return names.reduce(
    (registry, name, index) =>
      foldRegistry(registry, {
        type: "change.applied",
        id: `c${index + 1}`,
        kind: "create_agent",
        payload: { agent: name },
      } as never),
    EMPTY_REGISTRY,
  );
}

const baseContext: VerifierContext = {
  registry: registryWith("alpha", "beta"),
  tools: COMPILED_IN_TOOLS,
  pendingForRequester: 0,
  pendingCap: 3,
  pendingTotal: 0,
  pendingTotalCap: 5,
  pendingNewAgents: new Set(),
  mounts: {
    root: "/srv/mounts",
    sources: new Map([
      ["data", "/srv/mounts/data"],
      ["link", "/etc"],
      ["gone", null],
    ]),
  },
  packages: new Map(),
  modelProviders: new Map([
    ["mock", { models: null }],
    ["anthropic", { models: ["claude-sonnet-4-5"] }],
    ["closed", { models: [] }],
  ]),
  skills: { root: null, facts: new Map() },
};

/** What every package of a `packages` change names besides name and version. */
const PINNED = { integrity: `sha512-${"A".repeat(86)}==`, repository: "github.com/acme/tool" };

const SET_MODEL = {
  agent: "alpha",
  action: "set",
  provider: "anthropic",
  model: "claude-sonnet-4-5",
  maxOutputTokens: 4096,
  dailyTokens: 1_000_000,
};

/** The registry after alpha's model change was applied. */
function withModel(payload: Record<string, unknown>): Registry {
  return foldRegistry(baseContext.registry, {
    type: "change.applied",
    id: "c9",
    kind: "model",
    payload,
  } as never);
}

function change(kind: string, payload: Record<string, unknown>): ProposedChange {
  const parsed = PAYLOAD_SCHEMAS[kind as keyof typeof PAYLOAD_SCHEMAS].parse(payload);
  return { kind, payload: parsed } as ProposedChange;
}

function refusal(proposed: ProposedChange, context: Partial<VerifierContext> = {}) {
  return runVerifierChain(proposed, { ...baseContext, ...context }).refusal;
}

describe("the verifier chain", () => {
  it("lets a well-formed change through to a human, naming every verifier that passed", () => {
    const result = runVerifierChain(
      change("enabled_tools", { agent: "alpha", tools: ["read_file"] }),
      baseContext,
    );
    expect(result).toEqual({ passed: ["agent_reference", "pending_cap", "tools_compiled_in"] });
  });

  it("has no verdict that approves: a verifier either refuses or passes", () => {
    const samples = [
      change("create_agent", { agent: "gamma" }),
      change("enabled_tools", { agent: "alpha", tools: ["shell_exec"] }),
      change("egress", { agent: "alpha", action: "allow", host: "*.x", port: 1 }),
    ];
    for (const verifier of VERIFIERS) {
      const proposed = samples.find(
        (s) => verifier.appliesTo === "all" || verifier.appliesTo.includes(s.kind),
      );
      if (proposed === undefined) continue;
      const verdict = verifier.check(proposed, baseContext);
      expect(Object.keys(verdict).sort()).toEqual(verdict.pass ? ["pass"] : ["pass", "reason"]);
    }
  });

  it("is deterministic: the same input gives the same verdict", () => {
    const proposed = change("egress", { agent: "alpha", action: "allow", host: "EXAMPLE.com", port: 443 });
    const first = runVerifierChain(proposed, baseContext);
    for (let i = 0; i < 10; i += 1) expect(runVerifierChain(proposed, baseContext)).toEqual(first);
  });

  it.each([
    [
      "an unknown agent",
      change("persona", { agent: "nobody", persona: { name: "x", instructions: "" } }),
      "agent_reference",
    ],
    ["creating an agent that exists", change("create_agent", { agent: "alpha" }), "agent_reference"],
    [
      "a tool not compiled in",
      change("enabled_tools", { agent: "alpha", tools: ["shell_exec"] }),
      "tools_compiled_in",
    ],
    [
      "a version range",
      change("packages", { agent: "alpha", packages: [{ name: "left-pad", version: "^1.0.0", ...PINNED }] }),
      "package_form",
    ],
    [
      "a package tag",
      change("packages", { agent: "alpha", packages: [{ name: "left-pad", version: "latest", ...PINNED }] }),
      "package_form",
    ],
    [
      "an upper-case package name",
      change("packages", { agent: "alpha", packages: [{ name: "Left-Pad", version: "1.0.0", ...PINNED }] }),
      "package_form",
    ],
    [
      "a package URL",
      change("packages", {
        agent: "alpha",
        packages: [{ name: "git+https://x.example/y", version: "1.0.0", ...PINNED }],
      }),
      "package_form",
    ],
    [
      "a mount with ..",
      change("mounts", {
        agent: "alpha",
        mounts: [{ source: "../etc", target: "/mnt/etc", readOnly: true }],
      }),
      "mounts_contained",
    ],
    [
      "an absolute mount",
      change("mounts", { agent: "alpha", mounts: [{ source: "/etc", target: "/mnt/etc", readOnly: true }] }),
      "mounts_contained",
    ],
    [
      "a symlink out of the root",
      change("mounts", { agent: "alpha", mounts: [{ source: "link", target: "/mnt/l", readOnly: true }] }),
      "mounts_contained",
    ],
    [
      "a missing mount source",
      change("mounts", { agent: "alpha", mounts: [{ source: "gone", target: "/mnt/g", readOnly: true }] }),
      "mounts_contained",
    ],
    [
      "a mount target outside /mnt",
      change("mounts", { agent: "alpha", mounts: [{ source: "data", target: "/etc/x", readOnly: true }] }),
      "mounts_contained",
    ],
    [
      "a mount target with ..",
      change("mounts", {
        agent: "alpha",
        mounts: [{ source: "data", target: "/mnt/../etc", readOnly: true }],
      }),
      "mounts_contained",
    ],
    ["wiring to an unknown agent", change("wiring", { agent: "alpha", peers: ["nobody"] }), "peers_known"],
    ["wiring to itself", change("wiring", { agent: "alpha", peers: ["alpha"] }), "peers_known"],
    [
      "a wildcard host",
      change("egress", { agent: "alpha", action: "allow", host: "*.example.com", port: 443 }),
      "egress_host",
    ],
    [
      "an IP literal not marked as one",
      change("egress", { agent: "alpha", action: "allow", host: "10.0.0.1", port: 443 }),
      "egress_host",
    ],
    [
      "a hex IPv4 spelling",
      change("egress", { agent: "alpha", action: "allow", host: "0x7f.0.0.1", port: 80 }),
      "egress_host",
    ],
    [
      "a decimal IPv4 spelling",
      change("egress", { agent: "alpha", action: "allow", host: "2130706433", port: 80 }),
      "egress_host",
    ],
    [
      "a host with a trailing dot",
      change("egress", { agent: "alpha", action: "allow", host: "example.com.", port: 443 }),
      "egress_host",
    ],
    [
      "a single-label host",
      change("egress", { agent: "alpha", action: "allow", host: "localhost", port: 443 }),
      "egress_host",
    ],
    [
      "an upper-case host",
      change("egress", { agent: "alpha", action: "allow", host: "EXAMPLE.com", port: 443 }),
      "egress_host",
    ],
    [
      "ipLiteral on a name",
      change("egress", { agent: "alpha", action: "allow", host: "example.com", port: 443, ipLiteral: true }),
      "egress_host",
    ],
    [
      "revoking a host not listed",
      change("egress", { agent: "alpha", action: "revoke", host: "example.com", port: 443 }),
      "egress_host",
    ],
    [
      "an http MCP server",
      change("mcp_servers", {
        agent: "alpha",
        servers: [{ name: "s", transport: { type: "http", url: "http://mcp.example.com/" }, tools: [] }],
      }),
      "mcp_server_url",
    ],
    [
      "an MCP URL with credentials",
      change("mcp_servers", {
        agent: "alpha",
        servers: [{ name: "s", transport: { type: "http", url: "https://u:p@mcp.example.com/" }, tools: [] }],
      }),
      "mcp_server_url",
    ],
  ])("refuses %s", (_name, proposed, verifier) => {
    expect(refusal(proposed)?.verifier).toBe(verifier);
  });

  it("accepts an IP literal that says it is one, and well-formed names", () => {
    expect(
      refusal(
        change("egress", { agent: "alpha", action: "allow", host: "127.0.0.1", port: 8443, ipLiteral: true }),
      ),
    ).toBeUndefined();
    expect(
      refusal(change("egress", { agent: "alpha", action: "allow", host: "api.example.com", port: 443 })),
    ).toBeUndefined();
    expect(
      refusal(
        change("mounts", {
          agent: "alpha",
          mounts: [{ source: "data", target: "/mnt/data", readOnly: true }],
        }),
      ),
    ).toBeUndefined();
  });

  it("refuses mounts when no mounts root is configured", () => {
    const proposed = change("mounts", {
      agent: "alpha",
      mounts: [{ source: "data", target: "/mnt/data", readOnly: true }],
    });
    expect(refusal(proposed, { mounts: { root: null, sources: new Map() } })?.verifier).toBe(
      "mounts_contained",
    );
  });

  it("caps pending changes per requester and in total, and refuses a second pending create_agent for one name", () => {
    const proposed = change("persona", { agent: "alpha", persona: { name: "x", instructions: "" } });
    expect(refusal(proposed, { pendingForRequester: 2, pendingTotal: 4 })).toBeUndefined();
    expect(refusal(proposed, { pendingForRequester: 3 })?.verifier).toBe("pending_cap");
    expect(refusal(proposed, { pendingForRequester: 0, pendingTotal: 5 })?.verifier).toBe("pending_cap");
    expect(
      refusal(change("create_agent", { agent: "gamma" }), { pendingNewAgents: new Set(["gamma"]) })?.verifier,
    ).toBe("agent_reference");
  });
});

describe("the model_provider verifier", () => {
  it("lets through a provider the host configured, with a model it allows or any model for null", () => {
    expect(runVerifierChain(change("model", SET_MODEL), baseContext)).toEqual({
      passed: ["agent_reference", "pending_cap", "model_provider"],
    });
    expect(
      refusal(change("model", { ...SET_MODEL, provider: "mock", model: "whatever/any:1" })),
    ).toBeUndefined();
  });

  it.each([
    ["an unknown provider", { ...SET_MODEL, provider: "openai" }, "no model provider named openai"],
    ["a provider named constructor", { ...SET_MODEL, provider: "constructor" }, "no model provider named"],
    ["a provider named __proto__-like", { ...SET_MODEL, provider: "proto__" }, "no model provider named"],
    ["a model the provider does not allow", { ...SET_MODEL, model: "claude-opus-4" }, "does not allow model"],
    [
      "any model of a provider that allows none",
      { ...SET_MODEL, provider: "closed" },
      "does not allow model",
    ],
  ])("refuses %s", (_name, payload, reason) => {
    expect(refusal(change("model", payload))).toEqual({
      verifier: "model_provider",
      reason: expect.stringContaining(reason),
    });
  });

  it("refuses revoking a model nobody approved, and approving the one already approved", () => {
    const revoke = change("model", { agent: "alpha", action: "revoke" });
    expect(refusal(revoke)?.reason).toContain("has no approved model");
    const registry = withModel(SET_MODEL);
    expect(refusal(revoke, { registry })).toBeUndefined();
    expect(refusal(change("model", SET_MODEL), { registry })?.reason).toContain(
      "already has exactly this model",
    );
    expect(refusal(change("model", { ...SET_MODEL, dailyTokens: 5 }), { registry })).toBeUndefined();
  });

  it("refuses every model when the host configured no provider", () => {
    expect(
      refusal(change("model", { ...SET_MODEL, provider: "mock" }), { modelProviders: new Map() })?.reason,
    ).toContain("configured: none");
  });
});

describe("payload schemas", () => {
  it.each([
    [
      "an unknown field",
      "persona",
      { agent: "alpha", persona: { name: "x", instructions: "" }, egress: ["x"] },
    ],
    [
      "an unknown nested field",
      "persona",
      { agent: "alpha", persona: { name: "x", instructions: "", admin: true } },
    ],
    [
      "an oversize text",
      "persona",
      { agent: "alpha", persona: { name: "x", instructions: "a".repeat(16_385) } },
    ],
    ["a control character", "persona", { agent: "alpha", persona: { name: "x\u001b[2J", instructions: "" } }],
    [
      "a bidi override",
      "skills",
      {
        agent: "alpha",
        skills: [
          {
            name: "s",
            source: "s-1.0.0.tar.gz\u202e",
            version: "1.0.0",
            digest: `sha256:${"0".repeat(64)}`,
            signer: { repository: "acme/skills" },
          },
        ],
      },
    ],
    ["a bad agent name", "create_agent", { agent: "Alpha!" }],
    ["a duplicate tool", "enabled_tools", { agent: "alpha", tools: ["read_file", "read_file"] }],
    [
      "too many tools",
      "enabled_tools",
      { agent: "alpha", tools: Array.from({ length: 65 }, (_, i) => `t${i}`) },
    ],
    ["a port out of range", "egress", { agent: "alpha", action: "allow", host: "example.com", port: 70_000 }],
    ["a fractional port", "egress", { agent: "alpha", action: "allow", host: "example.com", port: 443.5 }],
    [
      "ipLiteral false",
      "egress",
      { agent: "alpha", action: "allow", host: "example.com", port: 443, ipLiteral: false },
    ],
    ["an unknown grant", "permissions", { agent: "alpha", grants: ["root"] }],
    ["a model action other than set or revoke", "model", { ...SET_MODEL, action: "grant" }],
    ["a revoke carrying a model", "model", { agent: "alpha", action: "revoke", model: "mock-1" }],
    ["a model without limits", "model", { agent: "alpha", action: "set", provider: "mock", model: "m" }],
    ["an upper-case provider", "model", { ...SET_MODEL, provider: "Mock" }],
    ["a provider named __proto__", "model", { ...SET_MODEL, provider: "__proto__" }],
    ["a model with a space", "model", { ...SET_MODEL, model: "gpt 4" }],
    ["a model starting with '/'", "model", { ...SET_MODEL, model: "/etc/passwd" }],
    ["a model of 129 characters", "model", { ...SET_MODEL, model: "m".repeat(129) }],
    ["a model with a zero-width space", "model", { ...SET_MODEL, model: "claude\u200b-sonnet" }],
    ["a model with a Cyrillic letter", "model", { ...SET_MODEL, model: "cl\u0430ude" }],
    ["zero output tokens", "model", { ...SET_MODEL, maxOutputTokens: 0 }],
    ["more than 200000 output tokens", "model", { ...SET_MODEL, maxOutputTokens: 200_001 }],
    ["fractional daily tokens", "model", { ...SET_MODEL, dailyTokens: 1.5 }],
    ["more than 10^9 daily tokens", "model", { ...SET_MODEL, dailyTokens: 1_000_000_001 }],
  ])("refuses %s", (_name, kind, payload) => {
    expect(PAYLOAD_SCHEMAS[kind as keyof typeof PAYLOAD_SCHEMAS].safeParse(payload).success).toBe(false);
  });

  it("accepts the model names providers use, at the bounds", () => {
    for (const model of [
      "mock-1",
      "meta-llama/llama-3.1-8b-instruct",
      "llama3.1:8b",
      "gpt-4o@2024",
      "m".repeat(128),
    ]) {
      expect(PAYLOAD_SCHEMAS.model.safeParse({ ...SET_MODEL, model }).success, model).toBe(true);
    }
    expect(
      PAYLOAD_SCHEMAS.model.safeParse({ ...SET_MODEL, maxOutputTokens: 200_000, dailyTokens: 1e9 }).success,
    ).toBe(true);
  });
});
