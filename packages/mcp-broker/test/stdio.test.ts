import { mkdir, symlink, writeFile } from "node:fs/promises";
import { createServer as createTcpServer, type Server } from "node:net";
import { join } from "node:path";
import { startEgressBroker } from "@ironclaw/egress";
import { describe, expect, it } from "vitest";
import { skipRealSandbox } from "../../sandbox/test/sandbox-gate.js";
import { type McpServerApproval, resolveBin } from "../src/index.js";
import {
  ASK_HOST,
  CONSTRUCTOR,
  ECHO,
  ECHO_PULLED,
  FLOOD,
  GARBAGE,
  PROBE_NET,
  STALL,
  UNAPPROVED,
} from "./fixtures/mcp-server.js";
import { approve, brokerFor, FIXTURE_PACKAGE, fixturePackage, onCleanup, tempDir } from "./helpers.js";

async function loopbackListener(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server: Server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return { port: address.port, connections: () => connections };
}

async function setup(
  transport: Partial<Extract<McpServerApproval["transport"], { type: "stdio" }>> = {},
  tools = [approve(ECHO)],
  egressSocketDir?: string,
) {
  const packageDir = await fixturePackage();
  const runRoot = await tempDir("ironclaw-mcp-run-");
  const server: McpServerApproval = {
    name: "srv",
    transport: { type: "stdio", package: FIXTURE_PACKAGE, command: "mcp-fixture", ...transport },
    tools,
  };
  return brokerFor([server], {
    stdio: {
      packageDir: (pkg) => (pkg === FIXTURE_PACKAGE ? packageDir : undefined),
      runDir: (agent, name) => join(runRoot, agent, name),
      ...(egressSocketDir === undefined ? {} : { egressSocketDir: () => egressSocketDir }),
    },
    limits: { callTimeoutMs: 2_000, connectTimeoutMs: 10_000 },
  });
}

describe.skipIf(skipRealSandbox)("the MCP broker with a stdio server in its own bubblewrap sandbox", () => {
  it("lists and calls the approved tool; the unapproved one is invisible and refused; each call audited", async () => {
    const { broker, events } = await setup({}, [approve(ECHO), approve(CONSTRUCTOR)]);
    expect((await broker.tools("alpha")).map((t) => t.name)).toEqual([
      "mcp__srv__echo",
      "mcp__srv__constructor",
    ]);
    expect(await broker.call("alpha", "mcp__srv__echo", { text: "inside" })).toEqual({
      ok: true,
      output: "echo: inside",
    });
    expect(await broker.call("alpha", "mcp__srv__constructor", {})).toEqual({
      ok: true,
      output: "called constructor",
    });
    expect((await broker.call("alpha", `mcp__srv__${UNAPPROVED.name}`, {})).code).toBe("IC_MCP_UNKNOWN_TOOL");
    expect(events.map((e) => [e.server, e.tool, e.decision, e.reason])).toEqual([
      ["srv", "echo", "allowed", "ok"],
      ["srv", "constructor", "allowed", "ok"],
      ["", "mcp__srv__delete_everything", "refused", "IC_MCP_UNKNOWN_TOOL"],
    ]);
  });

  it("refuses the tool once the server rug-pulls it mid-session", async () => {
    const { broker } = await setup({ args: ["--rug-after-calls", "1"] });
    expect((await broker.call("alpha", "mcp__srv__echo", { text: "one" })).ok).toBe(true);
    const pulled = await broker.call("alpha", "mcp__srv__echo", { text: "two" });
    expect(pulled.code).toBe("IC_MCP_DIGEST_MISMATCH");
    expect(pulled.output).toContain(approve(ECHO_PULLED).digest);
  });

  it("has no network: the server cannot reach a loopback port the host listens on", async () => {
    const listener = await loopbackListener();
    const { broker } = await setup({}, [approve(PROBE_NET)]);
    const answer = await broker.call("alpha", "mcp__srv__probe_net", { port: listener.port });
    expect(answer.ok).toBe(true);
    const seen = JSON.parse(answer.output) as { tcp: string; egressSocket: string };
    // Its own network namespace: a loopback of its own with nothing listening, no route anywhere else.
    expect(seen.tcp).toBe("ECONNREFUSED");
    expect(seen.egressSocket).toBe("ENOENT");
    expect(listener.connections()).toBe(0);
  });

  it("with network approved, still no host network: only the egress broker's socket it is given", async () => {
    const listener = await loopbackListener();
    const sockets = await tempDir("ironclaw-mcp-egress-");
    const egress = await startEgressBroker({
      socketPath: join(sockets, "egress.sock"),
      agent: "alpha",
      allowlist: () => [],
      audit: () => {},
    });
    onCleanup(() => egress.close());
    const { broker } = await setup({ network: true }, [approve(PROBE_NET)], sockets);
    const answer = await broker.call("alpha", "mcp__srv__probe_net", { port: listener.port });
    const seen = JSON.parse(answer.output) as { tcp: string; egressSocket: string };
    expect(seen).toEqual({ tcp: "ECONNREFUSED", egressSocket: "connected" });
    expect(listener.connections()).toBe(0);
  });

  it("refuses a network server when no egress broker was started for it", async () => {
    const { broker } = await setup({ network: true }, [approve(PROBE_NET)]);
    expect((await broker.call("alpha", "mcp__srv__probe_net", { port: 1 })).code).toBe(
      "IC_MCP_NETWORK_UNAVAILABLE",
    );
  });

  it("ends a server that floods its stdout, times out one that stalls, and starts a fresh one after", async () => {
    const { broker } = await setup({}, [approve(FLOOD), approve(STALL), approve(ECHO)]);
    expect((await broker.call("alpha", "mcp__srv__flood", {})).code).toBe("IC_MCP_RESPONSE_TOO_LARGE");
    expect((await broker.call("alpha", "mcp__srv__stall", {})).code).toBe("IC_MCP_TIMEOUT");
    expect(await broker.call("alpha", "mcp__srv__echo", { text: "after" })).toEqual({
      ok: true,
      output: "echo: after",
    });
  });

  it("serves calls made at once over one server, each answered with its own result", async () => {
    const { broker } = await setup();
    const texts = ["a", "b", "c", "d", "e"];
    const answers = await Promise.all(texts.map((text) => broker.call("alpha", "mcp__srv__echo", { text })));
    expect(answers.map((a) => a.output)).toEqual(texts.map((text) => `echo: ${text}`));
  });

  it("ends a server that breaks the framing, and answers its server-to-client requests with no", async () => {
    const { broker } = await setup({}, [approve(GARBAGE), approve(ASK_HOST), approve(ECHO)]);
    expect((await broker.call("alpha", "mcp__srv__garbage", {})).code).toBe("IC_MCP_PROTOCOL");
    const asked = await broker.call("alpha", "mcp__srv__ask_host", {});
    expect(asked.ok).toBe(true);
    expect(asked.output).toMatch(/^roots\/list: .*Method not found/m);
    expect(asked.output).toMatch(/^sampling\/createMessage: .*Method not found/m);
    expect(await broker.call("alpha", "mcp__srv__echo", { text: "x" })).toEqual({
      ok: true,
      output: "echo: x",
    });
  });

  it("refuses a package that is not in the store, and a bin that is not the package's", async () => {
    const missing = await setup({ package: "other@1.0.0" });
    expect((await missing.broker.call("alpha", "mcp__srv__echo", { text: "a" })).code).toBe(
      "IC_MCP_PACKAGE_INVALID",
    );
    const wrongBin = await setup({ command: "sh" });
    expect((await wrongBin.broker.call("alpha", "mcp__srv__echo", { text: "a" })).code).toBe(
      "IC_MCP_PACKAGE_INVALID",
    );
  });
});

describe("the bin a stdio server runs", () => {
  async function packageWith(bin: unknown, files: Record<string, string> = {}) {
    const dir = await tempDir("ironclaw-mcp-bin-");
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "@acme/tool", version: "1.0.0", bin }));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, ".."), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }

  it("is the package's own bin entry, a string bin named after the unscoped package", async () => {
    expect(
      await resolveBin(
        await packageWith({ run: "./dist/run.js" }, { "dist/run.js": "" }),
        "@acme/tool",
        "run",
      ),
    ).toBe("dist/run.js");
    expect(await resolveBin(await packageWith("bin.js", { "bin.js": "" }), "@acme/tool", "tool")).toBe(
      "bin.js",
    );
  });

  it.each([
    ["no such bin", { run: "run.js" }, "other"],
    ["a bin named like a prototype member", { run: "run.js" }, "constructor"],
    ["a bin climbing out", { run: "../../etc/passwd" }, "run"],
    ["an absolute bin", { run: "/bin/sh" }, "run"],
    ["a bin that is missing", { run: "gone.js" }, "run"],
  ])("refuses %s", async (_what, bin, command) => {
    const dir = await packageWith(bin, { "run.js": "" });
    await expect(resolveBin(dir, "@acme/tool", command)).rejects.toMatchObject({
      code: "IC_MCP_PACKAGE_INVALID",
    });
  });

  it("refuses, and audits, a call whose server's sandbox cannot start", async () => {
    const dir = await packageWith({ run: "run.js" }, { "run.js": "" });
    const runRoot = await tempDir();
    const { broker, events } = brokerFor(
      [
        {
          name: "srv",
          transport: { type: "stdio", package: "@acme/tool@1.0.0", command: "run" },
          tools: [approve(ECHO)],
        },
      ],
      { stdio: { nodePath: "/nonexistent/node", packageDir: () => dir, runDir: () => runRoot } },
    );
    const answer = await broker.call("alpha", "mcp__srv__echo", { text: "a" });
    expect(answer).toMatchObject({ ok: false, code: "IC_MCP_SERVER_UNAVAILABLE" });
    expect(events).toMatchObject([{ decision: "refused", reason: "IC_MCP_SERVER_UNAVAILABLE" }]);
  });

  it("refuses a bin that is a symlink out of the package", async () => {
    const dir = await packageWith({ run: "run.js" });
    await symlink("/etc/hostname", join(dir, "run.js"));
    await expect(resolveBin(dir, "@acme/tool", "run")).rejects.toMatchObject({
      code: "IC_MCP_PACKAGE_INVALID",
    });
  });
});
