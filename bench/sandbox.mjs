#!/usr/bin/env node
// The sandbox and the egress broker, each beside its baseline in the same run:
//  - launch → the agent's first instruction: bubblewrap + the sealed runtime, from launchSandbox()
//    until the agent's first message reaches the host (p50 over 50 launches), beside a bare `node -e 0`;
//  - the broker's added latency: an HTTPS GET to a server on loopback through the broker's unix socket,
//    beside the same GET made directly (p50 and p99 over 200 requests each).
//
//   npm run bench:sandbox
//   BENCH_LAUNCHES=20 BENCH_REQUESTS=100 npm run bench:sandbox
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { Agent, createServer, request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEgressBroker } from "../packages/egress/dist/index.js";
import { Gateway, startAgentApi } from "../packages/gateway/dist/index.js";
import { launchSandbox } from "../packages/sandbox/dist/index.js";
import { loopbackTls } from "../packages/sigstore-local/dist/index.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const launches = Number(process.env.BENCH_LAUNCHES ?? 50);
const requests = Number(process.env.BENCH_REQUESTS ?? 200);
const runtime = join(root, "packages", "sandbox", "runtime", "agent.mjs");
const OPERATOR = { id: "operator", role: "operator" };

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const ms = (value) => `${value.toFixed(1)} ms`;

const work = mkdtempSync(join(tmpdir(), "ironclaw-bench-sandbox-"));
try {
  // 1. Launch to first instruction.
  const gateway = await Gateway.open({ stateDir: join(work, "state") });
  const { change } = await gateway.submit(OPERATOR, { kind: "create_agent", payload: { agent: "bench" } });
  await gateway.approve(OPERATOR, change.id, { digest: change.digest });
  const socketDir = join(work, "run");
  const workspaceDir = join(work, "workspace");
  mkdirSync(socketDir, { mode: 0o700 });
  mkdirSync(workspaceDir, { mode: 0o700 });
  const api = await startAgentApi({ gateway, agent: "bench", socketPath: join(socketDir, "agent.sock") });
  const launchTimes = [];
  for (let i = 0; i < launches; i += 1) {
    const after = gateway.head.seq;
    const start = performance.now();
    const child = launchSandbox({
      nodePath: process.execPath,
      runtimeDir: dirname(runtime),
      entry: "agent.mjs",
      workspaceDir,
      socketDir,
      env: { IRONCLAW_AGENT: "bench" },
    });
    // The agent's first act is to tell the host it is ready.
    while (gateway.messages(OPERATOR, "bench", "out", after).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (performance.now() - start > 30_000) throw new Error("the agent did not start within 30 s");
    }
    launchTimes.push(performance.now() - start);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
  }
  await api.close();
  await gateway.close();
  const bare = [];
  for (let i = 0; i < Math.min(launches, 20); i += 1) {
    const start = performance.now();
    // The same empty environment the sandbox gets: a host setting such as NODE_EXTRA_CA_CERTS can
    // cost a bare node more than the whole sandbox.
    spawnSync(process.execPath, ["-e", "0"], { env: {} });
    bare.push(performance.now() - start);
  }
  console.log(
    `launch → first instruction, ${launches} launches: p50 ${ms(percentile(launchTimes, 50))}, p99 ${ms(percentile(launchTimes, 99))}` +
      `; bare \`node -e 0\` (empty environment) p50 ${ms(percentile(bare, 50))} (sandbox ÷ bare = ${(percentile(launchTimes, 50) / percentile(bare, 50)).toFixed(2)})`,
  );

  // 2. The broker's added latency on a loopback HTTPS request.
  const tls = await loopbackTls();
  const ca = tls.caCert;
  const server = createServer({ key: tls.leafKey, cert: tls.leafCert }, (_request, response) =>
    response.end("ok"),
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const broker = await startEgressBroker({
    socketPath: join(work, "egress.sock"),
    agent: "bench",
    allowlist: () => [{ host: "127.0.0.1", port }],
    audit: () => undefined,
    ca: [ca],
  });
  // Direct: a new TLS connection per request, as the broker makes upstream.
  const direct = () =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port, path: "/", ca, agent: new Agent({ keepAlive: false }) },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const viaBroker = () =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: join(work, "egress.sock"),
          path: `https://127.0.0.1:${port}/`,
          headers: { host: `127.0.0.1:${port}` },
        },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`broker answered ${res.statusCode}`));
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
  const timeEach = async (fn) => {
    const times = [];
    for (let i = 0; i < requests; i += 1) {
      const start = performance.now();
      await fn();
      times.push(performance.now() - start);
    }
    return times;
  };
  await timeEach(direct);
  const directTimes = await timeEach(direct);
  const brokerTimes = await timeEach(viaBroker);
  await broker.close();
  server.close();
  const added = percentile(brokerTimes, 50) - percentile(directTimes, 50);
  console.log(
    `HTTPS GET on loopback, ${requests} each: direct p50 ${ms(percentile(directTimes, 50))} p99 ${ms(percentile(directTimes, 99))}; ` +
      `through the broker p50 ${ms(percentile(brokerTimes, 50))} p99 ${ms(percentile(brokerTimes, 99))}; ` +
      `added p50 ${ms(added)} (broker ÷ direct = ${(percentile(brokerTimes, 50) / percentile(directTimes, 50)).toFixed(2)})`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
