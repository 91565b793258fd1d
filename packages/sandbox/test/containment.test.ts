import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProbe } from "../src/containment/build-probe.js";
import { type ContainmentReport, runContainmentSelftest } from "../src/containment/harness.js";
import { INVARIANTS } from "../src/containment/invariants.js";
import type { EgressBrokerHook } from "../src/containment/placeholder-broker.js";
import type { ModelProxyHook } from "../src/containment/placeholder-model-proxy.js";
import { skipRealSandbox } from "./sandbox-gate.js";

const TIMEOUT = 120_000;
let probeDir = "";
let probe = "";

beforeAll(async () => {
  probeDir = await mkdtemp(join(tmpdir(), "ironclaw-probe-"));
  probe = await buildProbe(probeDir);
});
afterAll(async () => {
  await rm(probeDir, { recursive: true, force: true });
});

const held = (report: ContainmentReport, id: string) =>
  report.invariants.find((invariant) => invariant.id === id);

describe.skipIf(skipRealSandbox)("containment self-test (real sandboxes)", () => {
  it(
    "finds the sandbox contained: every invariant held",
    async () => {
      const report = await runContainmentSelftest({ probe });
      const failed = report.invariants.filter((invariant) => !invariant.held);
      expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
      expect(report.verdict).toBe("contained");
      expect(report.invariants.map((invariant) => invariant.id)).toEqual(
        INVARIANTS.map((invariant) => invariant.id),
      );
      expect(report).toMatchObject({
        schema: "https://ironclaw.dev/schemas/containment/v1",
        node: process.version,
        bwrap: expect.stringMatching(/^bubblewrap \d/) as string,
      });
      expect(report.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
      // The MCP server's own sandbox was probed too, and holds on its own.
      for (const id of ["net-host-loopback", "write-runtime", "host-state", "code-from-strings"])
        expect(held(report, id)?.detail, id).toMatch(/mcp-server: denied/);
      expect(held(report, "mcp-agent-workspace")?.detail).toMatch(/^mcp-server: denied/);
      expect(held(report, "control-workspace-marker")?.detail).toMatch(/^sandbox: allowed/);
      expect(report.limits.memoryBytes.enforced).toBe(true);
      expect(report.limits.fileBytes.enforced).toBe(true);
      expect(report.limits.processes.enforced).toBe(process.getuid?.() !== 0);
    },
    TIMEOUT,
  );

  it(
    "fails closed: a probe that crashes part-way leaves the rest not held",
    async () => {
      const crashing = join(probeDir, "crashing.mjs");
      await writeFile(
        crashing,
        'console.log(JSON.stringify({ invariant: "net-public", observed: "denied", detail: "ENETUNREACH" }));\nthrow new Error("probe bug");\n',
      );
      const report = await runContainmentSelftest({ probe: crashing });
      expect(report.verdict).toBe("breached");
      expect(report.invariants.every((invariant) => !invariant.held)).toBe(true);
      const missing = report.invariants.filter((invariant) => invariant.observed === "missing");
      expect(missing.length).toBe(INVARIANTS.length - 1);
      // Even what it printed before crashing is not trusted.
      expect(held(report, "net-public")).toMatchObject({ held: false, observed: "inconclusive" });
      expect(held(report, "net-public")?.detail).toMatch(/it had printed denied \(ENETUNREACH\)/);
      expect(held(report, "worker")?.detail).toMatch(/did not finish \(exit code 1\).*probe bug/);
    },
    TIMEOUT,
  );

  it(
    "notices a shared network: every network invariant breaches",
    async () => {
      const report = await runContainmentSelftest({ probe, weaken: ["share-net"] });
      expect(report.verdict).toBe("breached");
      for (const id of ["net-host-loopback", "net-interfaces", "control-plane"])
        expect(held(report, id), id).toMatchObject({ observed: "allowed", held: false });
      // Public reachability and DNS depend on the host's own network; loopback does not.
      const failed = report.invariants
        .filter((invariant) => !invariant.held)
        .map((invariant) => invariant.id);
      expect(
        failed.every((id) => id.startsWith("net-") || id === "control-plane"),
        failed.join(),
      ).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "notices a missing permission model: child process, worker, eval and addons breach",
    async () => {
      const report = await runContainmentSelftest({ probe, weaken: ["no-permission-model"] });
      expect(report.verdict).toBe("breached");
      const failed = report.invariants
        .filter((invariant) => !invariant.held)
        .map((invariant) => invariant.id);
      expect(failed.sort()).toEqual(["code-from-strings", "native-addon", "spawn-child", "worker"]);
      for (const id of failed) expect(held(report, id)?.observed).toBe("allowed");
    },
    TIMEOUT,
  );

  it(
    "notices a read-only mount bound read-write: the OS layer lets the probe write it",
    async () => {
      const report = await runContainmentSelftest({ probe, weaken: ["mounts-rw"] });
      expect(report.verdict).toBe("breached");
      const failed = report.invariants
        .filter((invariant) => !invariant.held)
        .map((invariant) => invariant.id);
      expect(failed).toEqual(["mount-read-only"]);
      // The permission model still refuses the write: only the OS layer broke, and the self-test saw it.
      expect(held(report, "mount-read-only")?.detail).toMatch(
        /sandbox: denied .*\| namespaces: allowed \(create: done/,
      );
    },
    TIMEOUT,
  );

  it(
    "notices the host's root: a shell and other programs appear",
    async () => {
      const report = await runContainmentSelftest({ probe, weaken: ["host-root"] });
      expect(report.verdict).toBe("breached");
      expect(held(report, "exec-shell")).toMatchObject({ observed: "allowed", held: false });
      expect(held(report, "exec-other-binary")).toMatchObject({ observed: "allowed", held: false });
      // The shell is there but the permission model still refuses to run it: only the OS layer broke.
      expect(held(report, "exec-shell")?.detail).toMatch(/sandbox: denied .*\| namespaces: allowed/);
    },
    TIMEOUT,
  );

  it(
    "judges the egress broker it is given: one that fetches anything is a breach",
    async () => {
      const permissive: EgressBrokerHook = {
        async start(socketPath) {
          const server = createServer((_req, res) => res.end("fetched\n"));
          server.on("connect", (_req, socket) => {
            socket.on("error", () => {});
            socket.end("HTTP/1.1 200 Connection established\r\n\r\n");
          });
          await new Promise<void>((resolve) => server.listen(socketPath, resolve));
          return {
            close: () =>
              new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
              }),
          };
        },
      };
      const report = await runContainmentSelftest({ probe, egressBroker: permissive });
      expect(held(report, "egress-allowlist")).toMatchObject({ observed: "allowed", held: false });
      expect(held(report, "egress-allowlist")?.detail).not.toMatch(/placeholder/);
      expect(report.verdict).toBe("breached");
    },
    TIMEOUT,
  );

  it(
    "judges the model proxy it is given: one that leaks its key, serves any model and ignores the budget is a breach",
    async () => {
      const careless: ModelProxyHook = {
        async start(socketPath, { keyFile }) {
          // The key lands beside the socket, in the directory the sandbox sees as /run/ironclaw.
          await copyFile(keyFile, join(dirname(socketPath), "provider.key"));
          const server = createServer((_req, res) =>
            res
              .writeHead(200, { "content-type": "application/json" })
              .end(
                JSON.stringify({ content: [], stop: "end", usage: { inputTokens: 50, outputTokens: 50 } }),
              ),
          );
          await new Promise<void>((resolve) => server.listen(socketPath, resolve));
          return {
            close: () =>
              new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
              }),
          };
        },
      };
      const report = await runContainmentSelftest({ probe, modelProxy: careless });
      expect(report.verdict).toBe("breached");
      const failed = report.invariants
        .filter((invariant) => !invariant.held)
        .map((invariant) => invariant.id);
      expect(failed.sort(), held(report, "model-key")?.detail).toEqual([
        "model-budget",
        "model-key",
        "model-unapproved",
      ]);
      expect(held(report, "model-key")?.detail).toMatch(
        /model: allowed \(the host's provider key is readable in \/run\/ironclaw\/provider.key/,
      );
      expect(held(report, "model-budget")?.detail).toMatch(/never refused/);
    },
    TIMEOUT,
  );
});
