#!/usr/bin/env node
// The approval gateway over loopback with fsync on: submissions per second from concurrent clients,
// approve latency (p50/p99), and `ironclaw audit verify` over 1,000,000 records. For scale, it also
// times a bare write + fdatasync of one line on the same disk.
//
//   npm run bench:gateway
//   BENCH_SUBMISSIONS=2000 BENCH_CLIENTS=32 BENCH_APPROVALS=300 BENCH_RECORDS=1000000 npm run bench:gateway
import { spawn, spawnSync } from "node:child_process";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventLog } from "../packages/gateway/dist/index.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");
const submissions = Number(process.env.BENCH_SUBMISSIONS ?? 3000);
const clients = Number(process.env.BENCH_CLIENTS ?? 32);
const approvals = Number(process.env.BENCH_APPROVALS ?? 300);
const recordCount = Number(process.env.BENCH_RECORDS ?? 1_000_000);
// A real disk, not tmpfs: fsync must cost what it costs.
const base = process.env.BENCH_DIR ?? tmpdir();

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function startUp(state) {
  const child = spawn(
    process.execPath,
    // One principal filing thousands of pending changes is the flood the caps stop; lifted to measure.
    [
      bin,
      "up",
      "--dev",
      "--no-agents",
      "--listen",
      "127.0.0.1:0",
      "--state",
      state,
      "--json",
      "--pending-cap",
      "1000000",
      "--pending-total-cap",
      "1000000",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  for await (const chunk of child.stdout) {
    out += chunk;
    if (out.trimEnd().endsWith("}")) break;
  }
  const { url } = JSON.parse(out);
  const token = readFileSync(join(state, "tokens", "operator.token"), "utf8").trim();
  return { child, url, token };
}

// node:http with keep-alive: fetch costs the client more CPU than the server spends, on the same 2 vCPUs.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function api(server, method, path, body) {
  const url = new URL(path, server.url);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        agent,
        headers: {
          authorization: `Bearer ${server.token}`,
          ...(data === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(data) }),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () => {
          if ((response.statusCode ?? 500) >= 300)
            reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    request.on("error", reject);
    request.end(data);
  });
}

function fsyncFloor(dir, count) {
  const fd = openSync(join(dir, "floor.jsonl"), "a");
  const line = Buffer.from(`${JSON.stringify({ seq: 1, type: "change.submitted", pad: "x".repeat(300) })}\n`);
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    writeSync(fd, line);
    fdatasyncSync(fd);
  }
  const seconds = (performance.now() - start) / 1000;
  closeSync(fd);
  return count / seconds;
}

const work = mkdtempSync(join(base, "ironclaw-bench-gateway-"));
try {
  const server = await startUp(join(work, "state"));
  try {
    // Submissions: distinct create_agent changes, with the pending caps lifted (see startUp).
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < submissions) {
          const i = next++;
          await api(server, "POST", "/v1/changes", { kind: "create_agent", payload: { agent: `a${i}` } });
        }
      }),
    );
    const submitSeconds = (performance.now() - start) / 1000;
    const perSecond = submissions / submitSeconds;
    const floor = fsyncFloor(work, 300);

    // Approve latency: one agent, one wiring change at a time, each approved as soon as it is held.
    const created = await api(server, "POST", "/v1/changes", {
      kind: "create_agent",
      payload: { agent: "bench" },
    });
    await api(server, "POST", `/v1/changes/${created.change.id}/approve`, { digest: created.change.digest });
    const latencies = [];
    for (let i = 0; i < approvals; i += 1) {
      const { change } = await api(server, "POST", "/v1/changes", {
        kind: "wiring",
        payload: { agent: "bench", peers: [] },
      });
      const t = performance.now();
      await api(server, "POST", `/v1/changes/${change.id}/approve`, { digest: change.digest });
      latencies.push(performance.now() - t);
    }
    console.log(
      `submissions: ${submissions} from ${clients} clients in ${submitSeconds.toFixed(2)} s = ${perSecond.toFixed(0)}/s`,
    );
    console.log(
      `  for scale, on the same disk: a bare write+fdatasync of one line ${(1000 / floor).toFixed(3)} ms (${floor.toFixed(0)}/s); the gateway's time goes to HTTP, schema checks and hashing, with the clients on the same CPUs`,
    );
    console.log(
      `approve latency over ${approvals} approvals (approved + applied records, each fsynced): p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms`,
    );
  } finally {
    agent.destroy();
    server.child.kill("SIGTERM");
  }

  // audit verify over a generated log of recordCount records, written through the real EventLog.
  const big = join(work, "big");
  const { log } = await EventLog.open({ dir: big, checkpointEvery: 100_000 });
  let last;
  for (let i = 0; i < recordCount; i += 1) {
    last = log.append({ type: "change.refused", requester: "operator", reason: `bench record ${i}` }).durable;
    if (i % 10_000 === 9_999) await last;
  }
  await last;
  await log.close();
  const t = performance.now();
  const verify = spawnSync(process.execPath, [bin, "audit", "verify", "--state", big], { encoding: "utf8" });
  const verifySeconds = (performance.now() - t) / 1000;
  if (verify.status !== 0) throw new Error(`audit verify failed: ${verify.stdout}${verify.stderr}`);
  process.stdout.write(verify.stdout);
  console.log(
    `audit verify: ${recordCount} records in ${verifySeconds.toFixed(2)} s (${(recordCount / verifySeconds / 1000).toFixed(0)}k records/s, whole process)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
