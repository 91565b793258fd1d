import { type LoopbackTls, loopbackTls } from "@ironclaw/sigstore-local";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { haveSystemTools } from "../../../test/support/system-tools.js";
import type { McpServerApproval } from "../src/index.js";
import {
  CONSTRUCTOR,
  ECHO,
  ECHO_PULLED,
  type FixtureState,
  FLOOD,
  fixtureState,
  HUGE,
  INVISIBLE,
  PATTERNED,
  PROBE_NET,
  PROTO,
  PROTO_SCHEMA,
  STALL,
  UNAPPROVED,
} from "./fixtures/mcp-server.js";
import { approve, brokerFor, digestOf, httpFixture } from "./helpers.js";

// The fixture's certificate is made with openssl: without it these tests are skipped and summed up.
const haveOpenssl = haveSystemTools("MCP broker against Streamable HTTP servers", ["openssl"]);
let pki: LoopbackTls;
beforeAll(async () => {
  if (haveOpenssl) pki = await loopbackTls();
});
beforeEach((context) => {
  if (!haveOpenssl) context.skip();
});

async function setup(tools = [approve(ECHO)], stateful: Partial<FixtureState> = {}) {
  const state = { ...fixtureState(), ...stateful };
  const fixture = await httpFixture(pki.leafKey, pki.leafCert, state);
  const server: McpServerApproval = {
    name: "srv",
    transport: { type: "http", url: `https://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true },
    tools,
  };
  const made = brokerFor([server], { http: { ca: [pki.caCert] }, limits: { callTimeoutMs: 1_500 } });
  return { ...made, state, fixture, server };
}

describe("the MCP broker with a Streamable HTTP server", () => {
  it("lists the approved tool as mcp__srv__echo with its schema, and calls it; an unapproved tool stays invisible", async () => {
    const { broker, events } = await setup();
    const tools = await broker.tools("alpha");
    expect(tools).toEqual([
      { name: "mcp__srv__echo", description: ECHO.description, inputSchema: ECHO.inputSchema },
    ]);
    expect(await broker.call("alpha", "mcp__srv__echo", { text: "hi" })).toEqual({
      ok: true,
      output: "echo: hi",
    });
    const refused = await broker.call("alpha", "mcp__srv__delete_everything", {});
    expect(refused).toMatchObject({ ok: false, code: "IC_MCP_UNKNOWN_TOOL" });
    expect(refused.output).not.toContain("DELETED");
    // Another agent has no servers at all.
    expect(await broker.tools("beta")).toEqual([]);
    expect((await broker.call("beta", "mcp__srv__echo", { text: "hi" })).code).toBe("IC_MCP_UNKNOWN_TOOL");
    expect(events.map((e) => [e.agent, e.server, e.tool, e.decision, e.reason])).toEqual([
      ["alpha", "srv", "echo", "allowed", "ok"],
      ["alpha", "", "mcp__srv__delete_everything", "refused", "IC_MCP_UNKNOWN_TOOL"],
      ["beta", "", "mcp__srv__echo", "refused", "IC_MCP_UNKNOWN_TOOL"],
    ]);
  });

  it("audits each call with the digest of its canonical arguments, its duration and result size, never the arguments", async () => {
    const { broker, events } = await setup();
    await broker.call("alpha", "mcp__srv__echo", { text: "secret-123" });
    const [event] = events;
    expect(event).toMatchObject({
      type: "mcp.call",
      agent: "alpha",
      server: "srv",
      tool: "echo",
      // printf '{"text":"secret-123"}' | sha256sum, as coreutils computes it.
      argumentsDigest: "sha256:7dd9ee9311159f54ca2b4f9dd19400d52b3f5fa3bd5a16fdfb5c35f10abab270",
      decision: "allowed",
      reason: "ok",
    });
    expect(event?.resultBytes).toBeGreaterThan("echo: secret-123".length);
    expect(event?.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(events)).not.toContain("secret-123");
  });

  it("refuses a rug-pulled tool mid-session, and takes it back once the new digest is approved", async () => {
    const { broker, events, state, server } = await setup();
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "a" })).ok).toBe(true);
    state.rugPulled = true;
    const pulled = await broker.call("alpha", "mcp__srv__echo", { text: "b" });
    expect(pulled).toMatchObject({ ok: false, code: "IC_MCP_DIGEST_MISMATCH" });
    expect(pulled.output).toContain(digestOf(ECHO_PULLED));
    expect(await broker.tools("alpha")).toEqual([]);
    expect(events.at(-1)).toMatchObject({ decision: "refused", reason: "IC_MCP_DIGEST_MISMATCH" });
    // A new approval is a new registry read: the broker holds no approvals of its own.
    (server as { tools: unknown }).tools = [approve(ECHO_PULLED)];
    expect(await broker.call("alpha", "mcp__srv__echo", { text: "c" })).toEqual({
      ok: true,
      output: "echo: c",
    });
  });

  it("checks the arguments against the approved schema before the server sees them", async () => {
    const { broker, state } = await setup();
    for (const args of [{}, { text: 5 }, { text: "x".repeat(101) }, { text: "a", extra: 1 }, [], null]) {
      const answer = await broker.call("alpha", "mcp__srv__echo", args);
      expect(answer.code, JSON.stringify(args)).toBe("IC_MCP_BAD_ARGUMENTS");
    }
    expect(state.calls).toBe(0);
  });

  it("calls tools named like Object.prototype members as plain names, and never a lookalike with invisible Unicode", async () => {
    const { broker } = await setup([approve(CONSTRUCTOR), approve(PROTO), approve(ECHO)]);
    const names = (await broker.tools("alpha")).map((t) => t.name);
    expect(names).toEqual(["mcp__srv__constructor", "mcp__srv____proto__", "mcp__srv__echo"]);
    expect(await broker.call("alpha", "mcp__srv__constructor", {})).toEqual({
      ok: true,
      output: "called constructor",
    });
    expect(await broker.call("alpha", "mcp__srv____proto__", {})).toEqual({
      ok: true,
      output: "called __proto__",
    });
    expect((await broker.call("alpha", `mcp__srv__${INVISIBLE.name}`, { text: "a" })).code).toBe(
      "IC_MCP_UNKNOWN_TOOL",
    );
    expect((await broker.call("alpha", "mcp__srv__toString", {})).code).toBe("IC_MCP_UNKNOWN_TOOL");
  });

  it("judges a schema with __proto__ keys as the SDK's parser hands it over, and refuses a __proto__ argument", async () => {
    const { broker: inspector } = await setup([]);
    const [report] = await inspector.inspect("alpha");
    const seen = report?.tools.find((t) => t.name === "proto_schema");
    // The SDK's zod parser drops keys named __proto__: the digest is of what the broker enforces and
    // shows, so a digest taken from the server's raw text is not the approved one.
    expect(seen?.digest).not.toBe(digestOf(PROTO_SCHEMA));
    const { broker } = await setup([{ name: "proto_schema", digest: seen?.digest as string }]);
    const [view] = await broker.tools("alpha");
    expect(Object.keys(view?.inputSchema.properties as object)).toEqual(["a"]);
    expect((await broker.call("alpha", "mcp__srv__proto_schema", JSON.parse('{"__proto__":"x"}'))).code).toBe(
      "IC_MCP_BAD_ARGUMENTS",
    );
    expect(await broker.call("alpha", "mcp__srv__proto_schema", { a: "x" })).toEqual({
      ok: true,
      output: "called proto_schema",
    });
  });

  it("refuses an endless result, a stalled call, a huge tool and a schema it cannot check, each with its code", async () => {
    const { broker, events } = await setup([
      approve(FLOOD),
      approve(STALL),
      approve(HUGE),
      approve(PATTERNED),
      approve(ECHO),
    ]);
    expect((await broker.call("alpha", "mcp__srv__flood", {})).code).toBe("IC_MCP_RESPONSE_TOO_LARGE");
    const started = Date.now();
    expect((await broker.call("alpha", "mcp__srv__stall", {})).code).toBe("IC_MCP_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await broker.call("alpha", "mcp__srv__huge", {})).code).toBe("IC_MCP_SCHEMA_UNSUPPORTED");
    expect((await broker.call("alpha", "mcp__srv__patterned", { a: "aaa" })).code).toBe(
      "IC_MCP_SCHEMA_UNSUPPORTED",
    );
    expect((await broker.tools("alpha")).map((t) => t.name)).toEqual([
      "mcp__srv__flood",
      "mcp__srv__stall",
      "mcp__srv__echo",
    ]);
    // The server is still usable after each.
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "still" })).output).toBe("echo: still");
    expect(events.map((e) => e.reason)).toEqual([
      "IC_MCP_RESPONSE_TOO_LARGE",
      "IC_MCP_TIMEOUT",
      "IC_MCP_SCHEMA_UNSUPPORTED",
      "IC_MCP_SCHEMA_UNSUPPORTED",
      "ok",
    ]);
  });

  it("refuses the whole server when its tool list is larger than one message may be", async () => {
    const { broker } = await setup([approve(ECHO)], { listPadding: 2 * 1024 * 1024 });
    expect(await broker.tools("alpha")).toEqual([]);
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "a" })).code).toBe(
      "IC_MCP_RESPONSE_TOO_LARGE",
    );
  });

  it("dials only under the egress rules: an IP literal not approved as one, a name resolving to loopback, another port", async () => {
    const { fixture, broker: _ } = await setup();
    const url = `https://127.0.0.1:${fixture.port}/mcp`;
    const cases: [McpServerApproval["transport"], Partial<Parameters<typeof brokerFor>[1]>][] = [
      [{ type: "http", url }, {}],
      // DNS says loopback: a rebinding to an internal address is refused inside the connect.
      [
        { type: "http", url: `https://upstream.test:${fixture.port}/mcp` },
        { http: { ca: [pki.caCert], lookup: async () => [{ address: "127.0.0.1", family: 4 }] } },
      ],
      [{ type: "http", url: `http://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true }, {}],
    ];
    for (const [transport, extra] of cases) {
      const { broker, events } = brokerFor([{ name: "srv", transport, tools: [approve(ECHO)] }], {
        http: { ca: [pki.caCert] },
        ...extra,
      });
      expect(await broker.tools("alpha")).toEqual([]);
      const answer = await broker.call("alpha", "mcp__srv__echo", { text: "a" });
      expect(answer.code, transport.type === "http" ? transport.url : "").toBe("IC_MCP_EGRESS_REFUSED");
      expect(events).toHaveLength(1);
    }
    expect(fixture.requests).toEqual([]);
  });

  it("refuses a server whose certificate the trusted roots do not vouch for", async () => {
    const { fixture } = await setup();
    const { broker } = brokerFor([
      {
        name: "srv",
        transport: { type: "http", url: `https://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true },
        tools: [approve(ECHO)],
      },
    ]);
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "a" })).code).toBe(
      "IC_MCP_SERVER_UNAVAILABLE",
    );
    expect(fixture.requests).toEqual([]);
  });

  it("keeps one session while it is used, and closes it once idle, to start afresh at the next call", async () => {
    const warm = await setup();
    await warm.broker.call("alpha", "mcp__srv__echo", { text: "a" });
    await warm.broker.call("alpha", "mcp__srv__echo", { text: "b" });
    // initialize and its notification once, then a tools/list and a tools/call per call; never a GET
    // (the server-to-client event stream the broker does not open).
    expect(warm.fixture.requests).toHaveLength(6);
    expect(warm.fixture.requests.every((line) => line.startsWith("POST /mcp "))).toBe(true);
    const { fixture } = await setup();
    const { broker } = brokerFor(
      [
        {
          name: "srv",
          transport: { type: "http", url: `https://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true },
          tools: [approve(ECHO)],
        },
      ],
      { http: { ca: [pki.caCert] }, limits: { idleMs: 100 } },
    );
    await broker.call("alpha", "mcp__srv__echo", { text: "a" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "b" })).output).toBe("echo: b");
    expect(fixture.requests).toHaveLength(8);
  });

  it("stops serving when the audit cannot be written", async () => {
    const { fixture } = await setup();
    const { broker } = brokerFor(
      [
        {
          name: "srv",
          transport: { type: "http", url: `https://127.0.0.1:${fixture.port}/mcp`, ipLiteral: true },
          tools: [approve(ECHO)],
        },
      ],
      {
        http: { ca: [pki.caCert] },
        audit: () => {
          throw new Error("disk full");
        },
      },
    );
    await expect(broker.call("alpha", "mcp__srv__echo", { text: "a" })).rejects.toMatchObject({
      code: "IC_MCP_AUDIT_FAILED",
    });
    await expect(broker.call("alpha", "mcp__srv__nothing", {})).rejects.toMatchObject({
      code: "IC_MCP_AUDIT_FAILED",
    });
  });
});

describe("the network probe the stdio tests rely on", () => {
  it("reaches a loopback listener when the server runs on the host, so its ECONNREFUSED in a sandbox means something", async () => {
    const { createServer } = await import("node:net");
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const port = (listener.address() as { port: number }).port;
    const { broker } = await setup([approve(PROBE_NET)]);
    const answer = await broker.call("alpha", "mcp__srv__probe_net", { port });
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    expect(JSON.parse(answer.output)).toMatchObject({ tcp: "connected" });
    expect(connections).toBe(1);
  });
});

describe("what an operator is shown", () => {
  it("inspectProposed reports a server not yet approved, whose digests then approve its tools", async () => {
    const { broker, server } = await setup([]);
    const proposal = { ...server, name: "proposed" };
    const report = await broker.inspectProposed("alpha", proposal);
    const echo = report.tools.find((t) => t.name === "echo");
    expect(echo).toEqual({ name: "echo", state: "not_approved", digest: digestOf(ECHO) });
    expect(await broker.tools("alpha")).toEqual([]);
    (server as { tools: unknown }).tools = [{ name: "echo", digest: echo?.digest }];
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "ok" })).output).toBe("echo: ok");
    const unreachable = await broker.inspectProposed("alpha", {
      ...proposal,
      transport: { type: "http", url: "https://127.0.0.1:1/mcp" },
    });
    expect(unreachable.error?.code).toBe("IC_MCP_EGRESS_REFUSED");
  });

  it("inspect lists every offered tool with its live digest and how it stands", async () => {
    const { broker, state } = await setup([approve(ECHO), { name: "gone", digest: digestOf(UNAPPROVED) }]);
    state.rugPulled = true;
    const [report] = await broker.inspect("alpha");
    const byName = new Map(report?.tools.map((t) => [t.name, t]));
    expect(byName.get("echo")).toMatchObject({ state: "digest_mismatch", digest: digestOf(ECHO_PULLED) });
    expect(byName.get("delete_everything")).toMatchObject({
      state: "not_approved",
      digest: digestOf(UNAPPROVED),
    });
    expect(byName.get(INVISIBLE.name)).toMatchObject({ state: "not_approved" });
    expect(byName.get("gone")).toMatchObject({ state: "not_offered", digest: null });
  });
});
