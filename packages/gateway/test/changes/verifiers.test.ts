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
  skills: { root: null, facts: new Map() },
};

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
      change("packages", { agent: "alpha", packages: [{ name: "left-pad", version: "^1.0.0" }] }),
      "package_form",
    ],
    [
      "a package tag",
      change("packages", { agent: "alpha", packages: [{ name: "left-pad", version: "latest" }] }),
      "package_form",
    ],
    [
      "an upper-case package name",
      change("packages", { agent: "alpha", packages: [{ name: "Left-Pad", version: "1.0.0" }] }),
      "package_form",
    ],
    [
      "a package URL",
      change("packages", {
        agent: "alpha",
        packages: [{ name: "git+https://x.example/y", version: "1.0.0" }],
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
      change("mcp_servers", { agent: "alpha", servers: [{ name: "s", url: "http://mcp.example.com/" }] }),
      "mcp_server_url",
    ],
    [
      "an MCP URL with credentials",
      change("mcp_servers", {
        agent: "alpha",
        servers: [{ name: "s", url: "https://u:p@mcp.example.com/" }],
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
  ])("refuses %s", (_name, kind, payload) => {
    expect(PAYLOAD_SCHEMAS[kind as keyof typeof PAYLOAD_SCHEMAS].safeParse(payload).success).toBe(false);
  });
});
