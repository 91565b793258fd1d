import { type FileHandle, mkdir, mkdtemp, open, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentNamed, Gateway, type Principal } from "@ironclaw/gateway";
import { createMemoryLedger, type ModelProxy, mockProvider, utcDay } from "@ironclaw/model-proxy";
import { afterEach, describe, expect, it } from "vitest";
import { startHostMcpBroker } from "../src/runtime/mcp.js";
import { ledgerFromLog, syncModelProxy } from "../src/runtime/model-channel.js";

// The host's brokers as the supervisor wires them: the model proxy and the MCP broker audit into the
// gateway's log (and the ledger is rebuilt from it). An agent must get nothing the log does not record.
const OPERATOR: Principal = { id: "operator", role: "operator" };
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function complete(socketPath: string): Promise<{ status: number; code: string | undefined }> {
  const body = JSON.stringify({ system: "", messages: [{ role: "user", content: "hi" }], tools: [] });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: "POST",
        path: "/v1/complete",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            code: (JSON.parse(text) as { error?: { code: string } }).error?.code,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), "ironclaw-channel-"));
  dirs.push(dir);
  let events: FileHandle | undefined;
  const gateway = await Gateway.open({
    stateDir: join(dir, "state"),
    fileHandleFactory: async (path, flags) => {
      const handle = await open(path, flags, 0o600);
      if (path.endsWith("events.jsonl")) events = handle;
      return handle;
    },
  });
  const approve = async (kind: string, payload: Record<string, unknown>) => {
    const { change } = await gateway.submit(OPERATOR, { kind, payload });
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  };
  await approve("create_agent", { agent: "demo" });
  await approve("model", {
    agent: "demo",
    action: "set",
    provider: "mock",
    model: "mock-1",
    maxOutputTokens: 64,
    dailyTokens: 100_000,
  });
  const runDir = join(dir, "run");
  await mkdir(runDir, { mode: 0o700 });
  const ledger = createMemoryLedger();
  const options = { providers: new Map([["mock", mockProvider({ name: "mock" })]]), ledger };
  const record = () => {
    const found = agentNamed(gateway.registry, "demo");
    if (found === undefined) throw new Error("no agent demo");
    return found;
  };
  const proxy = (await syncModelProxy(undefined, record(), runDir, gateway, options)) as ModelProxy;
  return { gateway, proxy, ledger, approve, record, runDir, options, breakLog: () => events?.close() };
}

describe("the model channel under attack", () => {
  it("stops answering model calls once the gateway's log cannot record them", async () => {
    const { gateway, proxy, breakLog } = await setUp();
    try {
      expect((await complete(proxy.socketPath)).status).toBe(200);
      await breakLog();
      // This call's record is the write that fails; from then on no call is answered unrecorded.
      await complete(proxy.socketPath);
      await expect.poll(() => gateway.ready).toBe(false);
      for (let i = 0; i < 3; i += 1)
        expect(await complete(proxy.socketPath)).toEqual({ status: 503, code: "IC_MODEL_UNAVAILABLE" });
    } finally {
      await proxy.close();
      await gateway.close().catch(() => {});
    }
  });

  it("stops the MCP broker too once the gateway's log cannot record its calls", async () => {
    const { gateway, proxy, breakLog } = await setUp();
    const broker = startHostMcpBroker({ stateDir: join(dirs.at(-1) as string, "state"), gateway });
    try {
      expect(await broker.call("demo", "mcp__srv__echo", {})).toMatchObject({ code: "IC_MCP_UNKNOWN_TOOL" });
      await breakLog();
      await complete(proxy.socketPath);
      await expect.poll(() => gateway.ready).toBe(false);
      await expect(broker.call("demo", "mcp__srv__echo", {})).rejects.toMatchObject({
        code: "IC_MCP_AUDIT_FAILED",
      });
    } finally {
      await broker.close();
      await proxy.close();
      await gateway.close().catch(() => {});
    }
  });

  it("gives a restarted host the same day's usage, and removes the socket when the model is revoked", async () => {
    const { gateway, proxy, ledger, approve, record, runDir, options } = await setUp();
    try {
      for (let i = 0; i < 3; i += 1) expect((await complete(proxy.socketPath)).status).toBe(200);
      const day = utcDay(new Date());
      expect(ledger.used("demo", day)).toBeGreaterThan(0);
      expect((await ledgerFromLog(gateway)).used("demo", day)).toBe(ledger.used("demo", day));
      await approve("model", { agent: "demo", action: "revoke" });
      expect(await syncModelProxy(proxy, record(), runDir, gateway, options)).toBeUndefined();
      await expect(stat(join(runDir, "model.sock"))).rejects.toThrow(/ENOENT/);
    } finally {
      await proxy.close();
      await gateway.close();
    }
  });
});
