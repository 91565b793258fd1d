#!/usr/bin/env node
// The model proxy's overhead: p50 of one completion through the proxy's unix socket, against p50 of the
// same POST made directly to the same fake OpenAI-compatible server on loopback. Both use a fresh
// connection per call, as the proxy does upstream. Target: overhead p50 ≤ 1 ms. Uses the build.
//
//   npm run build && node bench/agent-proxy.mjs
//   BENCH_CALLS=5000 node bench/agent-proxy.mjs
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createMemoryLedger, openAiProvider, startModelProxy } from "../packages/model-proxy/dist/index.js";

const calls = Number(process.env.BENCH_CALLS ?? 2000);
const warmup = Math.min(200, Math.floor(calls / 10));

// A recorded OpenAI response shape (openai-python's test data): one tool call.
const reply = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: 1727346165,
  model: "gpt-4o-2024-08-06",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "http_fetch", arguments: '{"url":"https://example.com/"}' },
          },
        ],
        refusal: null,
      },
      logprobs: null,
      finish_reason: "tool_calls",
    },
  ],
  usage: { prompt_tokens: 76, completion_tokens: 24, total_tokens: 100 },
});

const fake = http.createServer((request, response) => {
  request.resume();
  request.on("end", () => {
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(reply),
    });
    response.end(reply);
  });
});
await new Promise((resolve) => fake.listen(0, "127.0.0.1", resolve));
const port = fake.address().port;

const neutral = {
  system: "You are demo, an IronClaw agent.",
  messages: [{ role: "user", content: "fetch https://example.com/" }],
  tools: [
    {
      name: "http_fetch",
      description: "Fetch an https URL",
      inputSchema: { type: "object", properties: { url: { type: "string" } } },
    },
    { name: "request_change", description: "Ask the operator for a change", inputSchema: { type: "object" } },
  ],
};
const neutralBody = JSON.stringify(neutral);
// What the proxy sends upstream for that request.
const directBody = JSON.stringify({
  model: "gpt-4o-2024-08-06",
  messages: [{ role: "system", content: neutral.system }, ...neutral.messages],
  tools: neutral.tools.map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description, parameters: t.inputSchema },
  })),
  max_tokens: 1024,
});

function post(options, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        ...options,
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => {
          if (response.statusCode !== 200) reject(new Error(`status ${response.statusCode}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        });
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

const dir = mkdtempSync(join(tmpdir(), "ironclaw-bench-model-"));
const provider = openAiProvider({
  name: "bench",
  baseUrl: new URL(`http://127.0.0.1:${port}/v1`),
  apiKey: "sk-bench-key-0000",
  models: null,
});
const proxy = await startModelProxy({
  socketPath: join(dir, "model.sock"),
  agent: "bench",
  approval: () => ({
    provider: "bench",
    model: "gpt-4o-2024-08-06",
    maxOutputTokens: 1024,
    dailyTokens: 1_000_000_000,
  }),
  providers: new Map([["bench", provider]]),
  ledger: createMemoryLedger(),
  audit: () => {},
});

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function time(run) {
  for (let i = 0; i < warmup; i += 1) await run();
  const samples = [];
  for (let i = 0; i < calls; i += 1) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return samples;
}

// Interleaved rounds so drift (other work on a shared machine) hits both sides alike.
const direct = [];
const proxied = [];
for (let round = 0; round < 4; round += 1) {
  direct.push(
    ...(await time(() => post({ host: "127.0.0.1", port, path: "/v1/chat/completions" }, directBody))),
  );
  proxied.push(
    ...(await time(() => post({ socketPath: proxy.socketPath, path: "/v1/complete" }, neutralBody))),
  );
}

const check = await post({ socketPath: proxy.socketPath, path: "/v1/complete" }, neutralBody);
if (check.content?.[0]?.name !== "http_fetch")
  throw new Error(`unexpected proxy answer ${JSON.stringify(check)}`);

const fmt = (ms) => `${ms.toFixed(3)} ms`;
const [d50, p50] = [percentile(direct, 50), percentile(proxied, 50)];
console.log(`calls per side: ${direct.length} (4 interleaved rounds of ${calls}, ${warmup} warm-up each)`);
console.log(`direct to the fake provider: p50 ${fmt(d50)}  p99 ${fmt(percentile(direct, 99))}`);
console.log(`through the model proxy:     p50 ${fmt(p50)}  p99 ${fmt(percentile(proxied, 99))}`);
console.log(`proxy overhead p50: ${fmt(p50 - d50)} (target ≤ 1 ms)`);

await proxy.close();
await new Promise((resolve) => fake.close(resolve));
rmSync(dir, { recursive: true, force: true });
