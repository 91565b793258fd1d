import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gateway, type Principal } from "@ironclaw/gateway";
import { afterEach, describe, expect, it } from "vitest";
import { McpEgress } from "../src/runtime/mcp-egress.js";

/**
 * The egress brokers `up` starts for stdio MCP servers approved with network. No sandbox here: this is
 * about which brokers exist when. The package check at the gateway's edge is the package store's job
 * (tested there and in agent-mcp.test.ts); here it answers yes so the registry can name a package.
 */
const OPERATOR: Principal = { id: "operator", role: "operator" };
const INTEGRITY = `sha512-${Buffer.alloc(64, 1).toString("base64")}`;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function setup(root?: string) {
  const dir = root ?? (await mkdtemp(join(tmpdir(), "ic-mcp-egress-")));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const gateway = await Gateway.open({
    stateDir: join(dir, "state"),
    packages: { check: async () => ({ ok: true, attested: true }) },
  });
  cleanups.push(() => gateway.close());
  const approve = async (kind: string, payload: unknown) => {
    const { change, refusal } = await gateway.submit(OPERATOR, { kind, payload });
    expect(refusal).toBeUndefined();
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  };
  await approve("create_agent", { agent: "alpha" });
  await approve("packages", {
    agent: "alpha",
    packages: [
      { name: "srv-pkg", version: "1.0.0", integrity: INTEGRITY, repository: "github.com/acme/srv" },
    ],
  });
  const servers = (network: boolean) =>
    approve("mcp_servers", {
      agent: "alpha",
      servers: [
        {
          name: "local",
          transport: {
            type: "stdio",
            package: "srv-pkg@1.0.0",
            command: "srv",
            ...(network ? { network } : {}),
          },
          tools: [],
        },
      ],
    });
  const egress = new McpEgress({ stateDir: join(dir, "state"), gateway });
  cleanups.push(() => egress.close());
  return {
    gateway,
    egress,
    servers,
    socketDir: join(dir, "state", "agents", "alpha", "mcp-egress", "local"),
  };
}

describe("McpEgress", () => {
  it("starts no broker for a server without network, one for a server with it, and closes it when revoked", async () => {
    const { gateway, egress, servers, socketDir } = await setup();
    await servers(false);
    await egress.sync("alpha");
    expect(egress.dir("alpha", "local")).toBeUndefined();
    expect(existsSync(socketDir)).toBe(false);

    await servers(true);
    // Calls at once start one broker, not two on the same socket.
    await Promise.all([egress.sync("alpha"), egress.sync("alpha"), egress.sync("alpha")]);
    expect(egress.dir("alpha", "local")).toBe(socketDir);
    expect(await readdir(socketDir)).toEqual(["egress.sock"]);
    const failed = (await gateway.audit(0, 1000)).filter((r) => r.type === "mcp.egress_unavailable");
    expect(failed).toEqual([]);
    // Another agent, or another server of this one, has none.
    expect(egress.dir("beta", "local")).toBeUndefined();
    expect(egress.dir("alpha", "other")).toBeUndefined();

    await servers(false);
    await egress.sync("alpha");
    expect(egress.dir("alpha", "local")).toBeUndefined();
    expect(existsSync(join(socketDir, "egress.sock"))).toBe(false);
  });

  it("gives no directory, and records why, when the broker cannot start", async () => {
    // A socket path longer than a unix socket may be (108 bytes): the broker cannot listen.
    const deep = await mkdtemp(join(tmpdir(), `ic-mcp-egress-${"x".repeat(80)}-`));
    const { gateway, egress, servers } = await setup(deep);
    await servers(true);
    await egress.sync("alpha");
    expect(egress.dir("alpha", "local")).toBeUndefined();
    const records = await gateway.audit(0, 1000);
    expect(records.filter((r) => r.type === "mcp.egress_unavailable")).toEqual([
      expect.objectContaining({ agent: "alpha", server: "local" }),
    ]);
  });

  it("starts nothing once closed", async () => {
    const { egress, servers, socketDir } = await setup();
    await servers(true);
    await egress.close();
    await egress.sync("alpha");
    expect(egress.dir("alpha", "local")).toBeUndefined();
    expect(existsSync(socketDir)).toBe(false);
  });
});
