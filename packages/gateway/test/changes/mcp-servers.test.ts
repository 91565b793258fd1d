import { describe, expect, it } from "vitest";
import { PAYLOAD_SCHEMAS } from "../../src/changes/kinds.js";
import { COMPILED_IN_TOOLS } from "../../src/changes/tools.js";
import { type ProposedChange, runVerifierChain, type VerifierContext } from "../../src/changes/verifiers.js";
import { EMPTY_REGISTRY, foldRegistry, type Registry } from "../../src/registry.js";

const DIGEST = `sha256:${"a".repeat(64)}`;
const schema = PAYLOAD_SCHEMAS.mcp_servers;

function registry(packages: readonly { name: string; version: string }[]): Registry {
  const created = foldRegistry(EMPTY_REGISTRY, {
    type: "change.applied",
    id: "c1",
    kind: "create_agent",
    payload: { agent: "alpha" },
  } as never);
  return foldRegistry(created, {
    type: "change.applied",
    id: "c2",
    kind: "packages",
    payload: { agent: "alpha", packages },
  } as never);
}

function context(packages: readonly { name: string; version: string }[] = []): VerifierContext {
  return {
    registry: registry(packages),
    tools: COMPILED_IN_TOOLS,
    pendingForRequester: 0,
    pendingCap: 3,
    pendingTotal: 0,
    pendingTotalCap: 5,
    pendingNewAgents: new Set(),
    mounts: { root: null, sources: new Map() },
    modelProviders: new Map(),
    packages: new Map(),
    skills: { root: null, facts: new Map() },
  };
}

const stdio = {
  name: "files",
  transport: { type: "stdio", package: "@acme/mcp-files@1.2.3", command: "mcp-files", args: ["--ro"] },
  tools: [{ name: "read_file", digest: DIGEST }],
};
const http = {
  name: "web",
  transport: { type: "http", url: "https://mcp.example.com/mcp" },
  tools: [{ name: "search", digest: DIGEST }],
};

function verdict(servers: unknown[], packages: { name: string; version: string }[] = []) {
  const payload = schema.parse({ agent: "alpha", servers });
  return runVerifierChain({ kind: "mcp_servers", payload } as ProposedChange, context(packages)).refusal;
}

describe("the mcp_servers payload", () => {
  it("accepts http and stdio servers whose tools are each pinned by a digest", () => {
    expect(schema.safeParse({ agent: "alpha", servers: [stdio, http] }).success).toBe(true);
  });

  it.each([
    ["a server name with '__' (mcp__a__b__c would split two ways)", { ...http, name: "a__b" }],
    ["a server name ending in '_'", { ...http, name: "web_" }],
    ["a tool without a digest", { ...http, tools: [{ name: "search" }] }],
    ["a digest that is not sha256 hex", { ...http, tools: [{ name: "search", digest: "sha256:ABC" }] }],
    ["a tool name with invisible Unicode", { ...http, tools: [{ name: "se\u200barch", digest: DIGEST }] }],
    ["a tool listed twice", { ...http, tools: [http.tools[0], http.tools[0]] }],
    ["a full tool name over 64 characters", { ...http, tools: [{ name: "t".repeat(60), digest: DIGEST }] }],
    [
      "a package version range",
      { ...stdio, transport: { ...stdio.transport, package: "@acme/mcp-files@^1.2.3" } },
    ],
    ["a package without a version", { ...stdio, transport: { ...stdio.transport, package: "mcp-files" } }],
    ["network other than true", { ...stdio, transport: { ...stdio.transport, network: false } }],
    ["an unknown transport", { ...http, transport: { type: "sse", url: "https://mcp.example.com/" } }],
    ["a field the schema does not know", { ...http, transport: { ...http.transport, headers: {} } }],
  ])("refuses %s", (_what, server) => {
    expect(schema.safeParse({ agent: "alpha", servers: [server] }).success).toBe(false);
  });

  it("accepts a tool named like an Object.prototype member, and an IP literal that says it is one", () => {
    const tools = [
      { name: "constructor", digest: DIGEST },
      { name: "__proto__", digest: DIGEST },
    ];
    const literal = {
      ...http,
      transport: { type: "http", url: "https://127.0.0.1:8443/mcp", ipLiteral: true },
      tools,
    };
    expect(verdict([literal])).toBeUndefined();
  });
});

describe("the mcp_servers verifiers", () => {
  it("refuse an IP literal that does not say it is one, and a plain-http URL", () => {
    const literal = { ...http, transport: { type: "http", url: "https://127.0.0.1:8443/mcp" } };
    expect(verdict([literal])?.verifier).toBe("mcp_server_url");
    const plain = { ...http, transport: { type: "http", url: "http://mcp.example.com/mcp" } };
    expect(verdict([plain])?.verifier).toBe("mcp_server_url");
  });

  it("refuse a stdio server whose package is not approved for the agent, at that exact version", () => {
    expect(verdict([stdio])?.reason).toContain("@acme/mcp-files@1.2.3 is not approved for alpha");
    expect(verdict([stdio], [{ name: "@acme/mcp-files", version: "1.2.4" }])?.verifier).toBe(
      "mcp_server_package",
    );
    expect(verdict([stdio], [{ name: "@acme/mcp-files", version: "1.2.3" }])).toBeUndefined();
  });
});
