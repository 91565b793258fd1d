import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { release } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxError } from "../errors.js";
import { hostLibraries } from "../ldd.js";
import { mcpServerSpec } from "../mcp-server-spec.js";
import { checkSandboxNode } from "../runtime-node.js";
import type { SandboxLimits, SandboxSpec, Weakening } from "../spec.js";
import { INSIDE } from "../spec.js";
import { sandboxSupport } from "../support.js";
import { buildProbe, PROBE_FILE } from "./build-probe.js";
import { createHostFixtures, type HostFixtures, MOUNT_CONTENT, MOUNT_FILE } from "./host-fixtures.js";
import { gitCommit, type LimitsReport, limitsReport } from "./host-info.js";
import { AGENT_WORKSPACE_MARKER, type ProbeConfig, type RunName } from "./invariants.js";
import { type EgressBrokerHook, placeholderBroker } from "./placeholder-broker.js";
import { type ModelProxyHook, placeholderModelProxy } from "./placeholder-model-proxy.js";
import { CONTAINMENT_SCHEMA, type InvariantResult, judge, type Verdict, verdictOf } from "./report.js";
import { type ProbeRun, runProbe } from "./run-probe.js";

export interface ContainmentOptions {
  /** A bundled probe (see buildProbe); built into the scratch directory when absent. */
  readonly probe?: string;
  /**
   * The bundled probe's text, which a released ironclaw carries: it has neither the probe's sources
   * nor esbuild to build them. Written into the scratch directory.
   */
  readonly probeSource?: string;
  /** The commit the report names; by default the checkout's this code runs from, or "unknown". */
  readonly commit?: string;
  /** The node binary to sandbox; this process's by default. */
  readonly nodePath?: string;
  /** TEST ONLY: weaken every run's sandbox, to show the self-test notices. */
  readonly weaken?: readonly Weakening[];
  readonly limits?: SandboxLimits;
  /** The real egress broker; a refusing placeholder stands in until there is one. */
  readonly egressBroker?: EgressBrokerHook;
  /** The real model proxy; a stand-in that keeps its contract is used until there is one. */
  readonly modelProxy?: ModelProxyHook;
  /** Per probe run. */
  readonly timeoutMs?: number;
  /** Where the scratch tree (fake state dir, workspaces, sockets) goes; os.tmpdir() by default. */
  readonly scratchDir?: string;
}

export interface ContainmentReport {
  readonly schema: typeof CONTAINMENT_SCHEMA;
  readonly commit: string;
  readonly node: string;
  readonly bwrap: string;
  readonly kernel: string;
  readonly limits: LimitsReport;
  readonly invariants: readonly InvariantResult[];
  readonly verdict: Verdict;
}

const MODEL_PROXY_CHECKS = new Set(["model-unapproved", "model-budget", "control-model-socket"]);

/** Limits like an agent's, loose enough for the probe; processes is high since RLIMIT_NPROC counts every task of the host uid. */
export const SELFTEST_LIMITS: SandboxLimits = {
  memoryBytes: 1024 * 1024 * 1024,
  cpuSeconds: 60,
  processes: 4096,
  openFiles: 256,
  fileBytes: 64 * 1024 * 1024,
};

const DEFAULT_TIMEOUT_MS = 60_000;
const FAKE_ADDON = "fake.node";
/** The budget of the "model" run's approval: small, so the probe can spend it. */
const MODEL_DAILY_TOKENS = 500;

function probeConfig(run: RunName, fixtures: HostFixtures, nodePath: string): ProbeConfig {
  return {
    run,
    hostPid: fixtures.hostPid,
    hostLoopbackPort: fixtures.loopbackPort,
    controlPlanePort: fixtures.controlPlanePort,
    hostStateDir: fixtures.stateDir,
    hostTokenFile: fixtures.tokenFile,
    otherWorkspaceDir: fixtures.otherWorkspaceDir,
    ...(fixtures.nameserver === undefined ? {} : { hostNameserver: fixtures.nameserver }),
    expectedExecutables: [INSIDE.node, ...hostLibraries(nodePath)],
    fakeAddon: `${INSIDE.app}/${FAKE_ADDON}`,
    modelDailyTokens: MODEL_DAILY_TOKENS,
    mount: {
      target: PROBE_MOUNT.target,
      file: MOUNT_FILE,
      content: MOUNT_CONTENT,
      hostMountsRoot: fixtures.mountsRoot,
      unapproved: "unapproved",
    },
  };
}

/** One read-only mount, approved for every run, with a sibling beside it that is not. */
const PROBE_MOUNT = { source: "approved", target: "/mnt/approved", readOnly: true } as const;

/**
 * Runs the probe in real sandboxes and judges what it saw: "sandbox" (as agents get it),
 * "namespaces" (without Node's permission model, so the OS layer stands alone) and "egress" (with
 * the broker's socket present). Every invariant must hold for the verdict "contained".
 */
export async function runContainmentSelftest(options: ContainmentOptions = {}): Promise<ContainmentReport> {
  const nodePath = options.nodePath ?? process.execPath;
  checkSandboxNode(nodePath);
  const support = await sandboxSupport();
  if (!support.ok)
    throw new SandboxError(
      support.code ?? "IC_SANDBOX_UNSUPPORTED",
      `sandboxes cannot run here: ${support.reason ?? "unknown"}`,
    );
  const limits = options.limits ?? SELFTEST_LIMITS;
  const weaken = options.weaken ?? [];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fixtures = await createHostFixtures(options.scratchDir);
  const runs = new Map<RunName, ProbeRun>();
  try {
    if (options.probeSource !== undefined)
      await writeFile(join(fixtures.appDir, PROBE_FILE), options.probeSource);
    else if (options.probe !== undefined) await copyFile(options.probe, join(fixtures.appDir, PROBE_FILE));
    else await buildProbe(fixtures.appDir);
    await writeFile(join(fixtures.appDir, FAKE_ADDON), "not a native addon\n");
    await writeFile(join(fixtures.workspaceDir, AGENT_WORKSPACE_MARKER), "the agent's own file\n");

    const spec = (run: RunName, socketDir: string, extra: readonly Weakening[] = []): SandboxSpec => ({
      nodePath,
      runtimeDir: fixtures.appDir,
      entry: PROBE_FILE,
      workspaceDir: fixtures.workspaceDir,
      socketDir,
      mountsRoot: fixtures.mountsRoot,
      mounts: [PROBE_MOUNT],
      args: [JSON.stringify(probeConfig(run, fixtures, nodePath))],
      env: {},
      limits,
      weaken: [...new Set([...weaken, ...extra])],
    });
    runs.set("sandbox", await runProbe(spec("sandbox", fixtures.socketDir), "sandbox", timeoutMs));
    runs.set(
      "namespaces",
      await runProbe(
        spec("namespaces", fixtures.socketDir, ["no-permission-model"]),
        "namespaces",
        timeoutMs,
      ),
    );
    // Egress approved: the broker serves egress.sock in the sandbox's socket dir.
    const broker = await (options.egressBroker ?? placeholderBroker).start(
      join(fixtures.egressSocketDir, "egress.sock"),
    );
    try {
      runs.set("egress", await runProbe(spec("egress", fixtures.egressSocketDir), "egress", timeoutMs));
    } finally {
      await broker.close();
    }
    // A model approved: the proxy serves model.sock, holding a provider key the sandbox must never see.
    const proxy = await (options.modelProxy ?? placeholderModelProxy).start(
      join(fixtures.modelSocketDir, "model.sock"),
      { dailyTokens: MODEL_DAILY_TOKENS, keyFile: fixtures.modelKeyFile },
    );
    try {
      // Without Node's permission model: what the probe can read is what the OS layer lets through.
      runs.set(
        "model",
        await runProbe(spec("model", fixtures.modelSocketDir, ["no-permission-model"]), "model", timeoutMs),
      );
    } finally {
      await proxy.close();
    }
    runs.set("mcp-server", await runMcpServerProbe(fixtures, nodePath, limits, weaken, timeoutMs));
  } finally {
    await fixtures.close();
  }

  const invariants = judge(runs).map((result) => {
    // Said in the report, so a "held" against a stand-in is not taken for the real part's.
    if (result.id === "egress-allowlist" && options.egressBroker === undefined)
      return { ...result, detail: `placeholder broker (refuses everything) | ${result.detail}` };
    if (MODEL_PROXY_CHECKS.has(result.id) && options.modelProxy === undefined)
      return { ...result, detail: `placeholder model proxy | ${result.detail}` };
    return result;
  });
  const observedLimits = runs
    .get("namespaces")
    ?.observations.find((entry) => entry.observation === "limits")?.values;
  return {
    schema: CONTAINMENT_SCHEMA,
    commit: options.commit ?? checkoutCommit(),
    node: process.version,
    bwrap: support.bwrapVersion ?? "unknown",
    kernel: release(),
    limits: limitsReport(
      limits,
      typeof observedLimits === "object" && observedLimits !== null
        ? (observedLimits as Record<string, unknown>)
        : undefined,
      process.getuid?.() ?? -1,
    ),
    invariants,
    verdict: verdictOf(invariants),
  };
}

/**
 * The probe as a stdio MCP server's bin, in a package directory, run in the sandbox mcpServerSpec
 * builds (the MCP broker's): its own workspace and an empty socket directory. The agent's workspace
 * holds a marker file (written before every run) the probe must not find.
 */
async function runMcpServerProbe(
  fixtures: HostFixtures,
  nodePath: string,
  limits: SandboxLimits,
  weaken: readonly Weakening[],
  timeoutMs: number,
): Promise<ProbeRun> {
  const packageDir = join(fixtures.root, "mcp-package");
  const runDir = join(fixtures.root, "mcp-run");
  for (const dir of [join(packageDir, "dist"), join(runDir, "workspace"), join(runDir, "sockets")])
    await mkdir(dir, { recursive: true });
  await copyFile(join(fixtures.appDir, PROBE_FILE), join(packageDir, "dist", PROBE_FILE));
  await writeFile(join(packageDir, FAKE_ADDON), "not a native addon\n");
  await writeFile(
    join(packageDir, "package.json"),
    JSON.stringify({ name: "probe", version: "1.0.0", bin: { probe: `dist/${PROBE_FILE}` } }),
  );
  const spec = mcpServerSpec({
    nodePath,
    packageDir,
    entry: `dist/${PROBE_FILE}`,
    workspaceDir: join(runDir, "workspace"),
    socketDir: join(runDir, "sockets"),
    args: [JSON.stringify(probeConfig("mcp-server", fixtures, nodePath))],
    limits,
  });
  return runProbe({ ...spec, weaken }, "mcp-server", timeoutMs);
}

/** The commit of the checkout beside this module; "unknown" where modules have no URL (the standalone executable). */
function checkoutCommit(): string {
  if (typeof import.meta.url !== "string") return "unknown";
  const here = dirname(fileURLToPath(import.meta.url));
  return gitCommit(basename(here) === "containment" ? dirname(dirname(here)) : here);
}
