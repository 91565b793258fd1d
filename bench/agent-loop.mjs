#!/usr/bin/env node
// One tool step of the agent loop with the offline mock model, end to end over the real sockets: the
// loop asks the model proxy (mock provider), which answers with a tool call; the loop reads the
// registry through the agent API, checks the call, runs list_files, asks the model again, and gets the
// answer. Side by side, the floor: the same two mock answers and the same tool run in one process,
// with no socket, no proxy and no registry check. Prints p50/p99 of each and the ratio.
//
//   npm run bench:agent
//   BENCH_ROUNDS=500 npm run bench:agent
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Gateway, startAgentApi } from "../packages/gateway/dist/index.js";
import { createMemoryLedger, mockProvider, startModelProxy } from "../packages/model-proxy/dist/index.js";
import { HostApi } from "../packages/sandbox/dist/agent/host-api.js";
import { DEFAULT_LIMITS, runTask } from "../packages/sandbox/dist/agent/loop.js";

const rounds = Number(process.env.BENCH_ROUNDS ?? 300);
const warmup = 30;
const OPERATOR = { id: "operator", role: "operator" };
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fmt = (ms) => `${ms.toFixed(3)} ms`;

const dir = mkdtempSync(join(tmpdir(), "ironclaw-bench-agent-"));
const rules = [
  { when: { lastToolResultContains: "notes.txt" }, reply: { text: "the workspace holds notes.txt" } },
  { when: { lastUserContains: "what is here" }, reply: { toolCalls: [{ name: "list_files", input: {} }] } },
];
const provider = mockProvider({ name: "mock", rules });
try {
  const workspace = join(dir, "workspace");
  mkdirSync(workspace);
  writeFileSync(join(workspace, "notes.txt"), "hello\n");
  const gateway = await Gateway.open({ stateDir: join(dir, "state") });
  for (const [kind, payload] of [
    ["create_agent", { agent: "bench" }],
    ["enabled_tools", { agent: "bench", tools: ["list_files"] }],
    // The loop reads the approved model from the registry before each step: without it, no model.
    [
      "model",
      {
        agent: "bench",
        action: "set",
        provider: "mock",
        model: "mock-1",
        maxOutputTokens: 1024,
        dailyTokens: 1_000_000_000,
      },
    ],
  ]) {
    const { change } = await gateway.submit(OPERATOR, { kind, payload });
    await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  }
  const channels = {
    agent: join(dir, "agent.sock"),
    model: join(dir, "model.sock"),
    egress: join(dir, "egress.sock"),
  };
  const api = await startAgentApi({ gateway, agent: "bench", socketPath: channels.agent });
  const proxy = await startModelProxy({
    socketPath: channels.model,
    agent: "bench",
    approval: () => ({
      provider: "mock",
      model: "mock-1",
      maxOutputTokens: 1024,
      dailyTokens: 1_000_000_000,
    }),
    providers: new Map([["mock", provider]]),
    ledger: createMemoryLedger(),
    audit: () => undefined,
  });
  const env = {
    channels,
    api: new HostApi(channels),
    agent: "bench",
    workspace,
    limits: DEFAULT_LIMITS,
  };

  const loop = [];
  for (let i = 0; i < warmup + rounds; i += 1) {
    const start = performance.now();
    const reply = await runTask(env, { from: "operator", text: "what is here?" });
    const ms = performance.now() - start;
    if (reply !== "the workspace holds notes.txt") throw new Error(`unexpected reply: ${reply}`);
    if (i >= warmup) loop.push(ms);
  }

  // The floor: the same mock answers and the same directory listing, called directly.
  const tools = [{ name: "list_files", description: "list", inputSchema: { type: "object" } }];
  const floor = [];
  for (let i = 0; i < warmup + rounds; i += 1) {
    const start = performance.now();
    const messages = [{ role: "user", content: "what is here?" }];
    const first = await provider.complete({
      system: "",
      messages,
      tools,
      model: "mock-1",
      maxOutputTokens: 1024,
    });
    const call = first.content.find((block) => block.type === "tool_call");
    const output = readdirSync(workspace).sort().join("\n");
    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "tool", results: [{ toolCallId: call.id, output, isError: false }] });
    const second = await provider.complete({
      system: "",
      messages,
      tools,
      model: "mock-1",
      maxOutputTokens: 1024,
    });
    if (second.content[0]?.text !== "the workspace holds notes.txt") throw new Error("the floor went wrong");
    const ms = performance.now() - start;
    if (i >= warmup) floor.push(ms);
  }
  await proxy.close();
  await api.close();
  await gateway.close();

  const p50 = percentile(loop, 50);
  const floorP50 = percentile(floor, 50);
  console.log(`agent loop, one tool step with the mock model (${rounds} rounds after ${warmup} warm-up)`);
  console.log(`  loop over the sockets   p50 ${fmt(p50)}  p99 ${fmt(percentile(loop, 99))}`);
  console.log(`  same work in-process    p50 ${fmt(floorP50)}  p99 ${fmt(percentile(floor, 99))}`);
  console.log(
    `  ratio (p50)             ${(p50 / floorP50).toFixed(1)}×   target: loop p50 ≤ 20 ms: ${p50 <= 20 ? "met" : "NOT met"}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
