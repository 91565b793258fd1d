import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentApi, type AgentMcp, Gateway, type Principal, startAgentApi } from "@ironclaw/gateway";
import type { Channels } from "../../sandbox/src/agent/channels.js";
import { HostApi } from "../../sandbox/src/agent/host-api.js";
import { DEFAULT_LIMITS, type LoopEnv, type LoopLimits } from "../../sandbox/src/agent/loop.js";
import type { Completion } from "../../sandbox/src/agent/model-client.js";

export const OPERATOR: Principal = { id: "operator", role: "operator" };

/** What the loop sent the model, one request per step. */
export interface SeenRequest {
  readonly system: string;
  readonly messages: readonly Record<string, unknown>[];
  readonly tools: readonly { readonly name: string }[];
}

/**
 * The loop outside a sandbox: a real gateway and agent API on a unix socket, and a stand-in for the
 * model proxy that answers in the neutral format from a script the test writes (self-made: the format
 * is our own).
 */
export class LoopHarness {
  readonly seen: SeenRequest[] = [];
  #model: Server | undefined;
  #closed = false;
  private constructor(
    readonly dir: string,
    readonly gateway: Gateway,
    readonly api: AgentApi,
    readonly channels: Channels,
  ) {}

  /** `mcp`: a stand-in for the host's MCP broker behind the agent API. */
  static async open(agent = "demo", mcp?: AgentMcp): Promise<LoopHarness> {
    const dir = await mkdtemp(join(tmpdir(), "ironclaw-loop-"));
    await mkdir(join(dir, "workspace"));
    const gateway = await Gateway.open({ stateDir: join(dir, "state") });
    const harness = new LoopHarness(
      dir,
      gateway,
      await startAgentApi({
        gateway,
        agent,
        socketPath: join(dir, "agent.sock"),
        ...(mcp === undefined ? {} : { mcp }),
      }),
      { agent: join(dir, "agent.sock"), model: join(dir, "model.sock"), egress: join(dir, "egress.sock") },
    );
    await harness.approve("create_agent", { agent });
    return harness;
  }

  /** Submits and approves a change as the operator; returns its id. */
  async approve(kind: string, payload: Record<string, unknown>): Promise<string> {
    const { change, refusal } = await this.gateway.submit(OPERATOR, { kind, payload });
    if (refusal !== undefined) throw new Error(`${kind} refused: ${refusal}`);
    await this.gateway.approve(OPERATOR, change.id, { digest: change.digest });
    return change.id;
  }

  /** The changes waiting for a human. */
  pending() {
    return this.gateway.list(OPERATOR, { state: "pending" });
  }

  /** Approves every pending change, as a human at the console would. */
  async approvePending(): Promise<string[]> {
    const ids: string[] = [];
    for (const change of this.pending()) {
      await this.gateway.approve(OPERATOR, change.id, { digest: change.digest });
      ids.push(change.id);
    }
    return ids;
  }

  /** Serves the model socket; `answer` sees each request and returns the completion. */
  async model(
    answer: (request: SeenRequest, step: number) => Completion | Promise<Completion>,
  ): Promise<void> {
    await this.approve("model", {
      agent: "demo",
      action: "set",
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 1_000_000,
    });
    this.#model = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SeenRequest;
        this.seen.push(request);
        const body = JSON.stringify(await answer(request, this.seen.length));
        res.writeHead(200, { "content-type": "application/json" }).end(body);
      });
    });
    await new Promise<void>((resolve) => this.#model?.listen(this.channels.model, resolve));
  }

  env(limits: Partial<LoopLimits> = {}): LoopEnv {
    return {
      channels: this.channels,
      api: new HostApi(this.channels),
      agent: "demo",
      workspace: join(this.dir, "workspace"),
      limits: { ...DEFAULT_LIMITS, pollMs: 10, ...limits },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((resolve) => (this.#model ? this.#model.close(() => resolve()) : resolve()));
    await this.api.close();
    await this.gateway.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export const text = (value: string): Completion => ({
  content: [{ type: "text", text: value }],
  stop: "end",
  usage: { inputTokens: 10, outputTokens: 5 },
});

export const toolCall = (name: string, input: Record<string, unknown>, id = `call-${name}`): Completion => ({
  content: [{ type: "tool_call", id, name, input }],
  stop: "tool_calls",
  usage: { inputTokens: 10, outputTokens: 5 },
});
