import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ConsoleServer, startConsole } from "@ironclaw/console";
import { type ControlPlane, parseListen, startControlPlane } from "@ironclaw/gateway";
import type { McpBroker } from "@ironclaw/mcp-broker";
import { loadModelProviders, type ModelProviders } from "@ironclaw/model-proxy";
import { isPackageStoreError, PackageStore, packageChecker } from "@ironclaw/package-store";
import { sandboxSupport } from "@ironclaw/sandbox";
import { stateDirectory } from "../control/client.js";
import { CliError } from "../errors.js";
import { writeFileAtomic } from "../fs/atomic-write.js";
import { startHostMcpBroker } from "../runtime/mcp.js";
import { ledgerFromLog } from "../runtime/model-channel.js";
import { AgentSupervisor } from "../runtime/supervisor.js";
import { type CommandContext, writeJson } from "./context.js";
import { loadTrustedRoot } from "./verify-bundle-action.js";

export interface UpFlags {
  readonly dev?: boolean;
  readonly state?: string;
  readonly listen?: string;
  readonly console?: string;
  readonly consoleOrigin?: string;
  readonly ttl?: string;
  readonly mountsRoot?: string;
  readonly packageRegistry?: string;
  readonly skillsRoot?: string;
  readonly modelProviders?: string;
  readonly witness?: string;
  readonly pendingCap?: string;
  readonly pendingTotalCap?: string;
  readonly agents?: boolean;
  readonly json?: boolean;
}

/** Replaced at bundle time by the release build with the agent runtime's source; absent from a checkout. */
declare const IRONCLAW_AGENT_RUNTIME: string | undefined;

/**
 * The bundled agent runtime: $IRONCLAW_AGENT_RUNTIME, the one a released ironclaw carries (written into
 * the state directory, read-only), or the one `npm run build` made in a checkout.
 */
async function agentRuntime(env: Readonly<Record<string, string | undefined>>, stateDir: string) {
  if (env.IRONCLAW_AGENT_RUNTIME !== undefined)
    return existsSync(env.IRONCLAW_AGENT_RUNTIME) ? env.IRONCLAW_AGENT_RUNTIME : undefined;
  if (typeof IRONCLAW_AGENT_RUNTIME !== "undefined") {
    const dir = join(stateDir, "runtime");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, "agent.mjs");
    await writeFileAtomic(file, IRONCLAW_AGENT_RUNTIME);
    return file;
  }
  const built = fileURLToPath(new URL("../../../sandbox/runtime/agent.mjs", import.meta.url));
  return existsSync(built) ? built : undefined;
}

/** Runs the agents, or says why not: without a sandbox, no agent runs at all. */
async function startAgents(
  controlPlane: ControlPlane,
  stateDir: string,
  mountsRoot: string | undefined,
  providers: ModelProviders,
  context: CommandContext,
): Promise<{ supervisor?: AgentSupervisor; mcp?: McpBroker; note: string }> {
  const support = await sandboxSupport();
  if (!support.ok)
    return {
      note:
        support.code !== undefined
          ? `agents: not started (${support.code}): ${support.reason ?? ""}`
          : `agents: not started, no sandbox here (${support.reason ?? "bubblewrap cannot run"})`,
    };
  const runtime = await agentRuntime(context.io.env, stateDir);
  if (runtime === undefined) return { note: "agents: not started, this build holds no agent runtime" };
  const mcp = startHostMcpBroker({ stateDir, gateway: controlPlane.gateway });
  const supervisor = new AgentSupervisor({
    stateDir,
    gateway: controlPlane.gateway,
    // Today's usage from the log, so a restart does not renew anyone's daily budget.
    model: { providers, ledger: await ledgerFromLog(controlPlane.gateway) },
    mcp,
    runtimeDir: dirname(runtime),
    entry: runtime.slice(dirname(runtime).length + 1),
    // Checked again at every launch: the gateway checked the sources when the change was submitted.
    ...(mountsRoot === undefined ? {} : { mountsRoot }),
    onExit: (agent, code, stderr) =>
      context.io.stderr.write(
        `ironclaw: agent ${agent}'s sandbox stopped (exit ${String(code)}): ${stderr.trim()}\n`,
      ),
  });
  await supervisor.start();
  return {
    supervisor,
    mcp,
    note: `agents: each in its own bubblewrap sandbox (${support.bwrapVersion ?? "bwrap"})`,
  };
}

const UNITS_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(text);
  if (match === null)
    throw new CliError("IC_USAGE", `--ttl takes a duration such as 30m, 24h or 7d, not ${text}`);
  return Number(match[1]) * (UNITS_MS[match[2] as string] as number);
}

function positive(text: string, flag: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text))
    throw new CliError("IC_USAGE", `${flag} takes a whole number from 1, not ${text}`);
  return Number(text);
}

/** The console on its own listener, refused on the same addresses as the API; refusals go to the audit log. */
function serveConsole(
  controlPlane: ControlPlane,
  spec: string,
  dev: boolean,
  publicOrigin: string | undefined,
  agentStatus: (agent: string) => string,
): Promise<ConsoleServer> {
  const listen = parseListen(spec);
  return startConsole({
    host: listen.host,
    port: listen.port,
    dev,
    ...(publicOrigin === undefined ? {} : { publicOrigin }),
    gateway: controlPlane.gateway,
    stateDir: controlPlane.principals.stateDir,
    agentStatus,
    authenticate: controlPlane.principals.authenticate,
    onSecurityEvent: (event) => controlPlane.noteSecurityEvent(event),
  });
}

/** Where packages for MCP servers come from; a registry URL we would not fetch from is a usage error. */
async function packageStore(
  stateDir: string,
  registry: string | undefined,
  io: CommandContext["io"],
): Promise<PackageStore> {
  const trustedRoot = await loadTrustedRoot(undefined, io);
  try {
    return new PackageStore({ stateDir, trustedRoot, ...(registry === undefined ? {} : { registry }) });
  } catch (error) {
    if (!isPackageStoreError(error)) throw error;
    throw new CliError("IC_USAGE", `--package-registry: ${error.message}`);
  }
}

/** Runs until SIGINT or SIGTERM, then closes the API, writes a final checkpoint and releases the lock. */
export async function upAction(flags: UpFlags, context: CommandContext): Promise<void> {
  // Listened for from the first moment: a SIGINT or SIGTERM while the control plane or the agents
  // start would otherwise kill the process, leaving the lock and api.json behind and the log without
  // gateway.stopped. One that arrives during start-up stops `up` as soon as it has started.
  const listening = new AbortController();
  const stopRequested = Promise.race([
    once(process, "SIGINT", { signal: listening.signal }),
    once(process, "SIGTERM", { signal: listening.signal }),
  ]);
  // However `up` ends, the listeners go with it, which rejects this promise.
  stopRequested.catch(() => undefined);
  try {
    await runUntil(stopRequested, flags, context);
  } finally {
    listening.abort();
  }
}

async function runUntil(
  stopRequested: Promise<unknown>,
  flags: UpFlags,
  context: CommandContext,
): Promise<void> {
  const { io } = context;
  const stateDir = stateDirectory(io, flags.state);
  const packages = await packageStore(stateDir, flags.packageRegistry, io);
  // Read once, before anything listens: a providers file or key that is wrong stops `up` here.
  const providers = await loadModelProviders({ stateDir, file: flags.modelProviders, env: io.env });
  const controlPlane = await startControlPlane({
    stateDir,
    // The gateway keeps a frozen copy of the names and models; the keys stay with the providers.
    modelProviders: providers,
    dev: flags.dev === true,
    ttlMs: parseDuration(flags.ttl ?? "24h"),
    ...(flags.listen === undefined ? {} : { listen: flags.listen }),
    ...(flags.mountsRoot === undefined ? {} : { mountsRoot: flags.mountsRoot }),
    packages: packageChecker(packages),
    ...(flags.skillsRoot === undefined
      ? {}
      : {
          skillsRoot: resolve(io.cwd, flags.skillsRoot),
          skillsTrustedRoot: await loadTrustedRoot(undefined, io),
        }),
    ...(flags.witness === undefined ? {} : { witness: resolve(io.cwd, flags.witness) }),
    ...(flags.pendingCap === undefined ? {} : { pendingCap: positive(flags.pendingCap, "--pending-cap") }),
    ...(flags.pendingTotalCap === undefined
      ? {}
      : { pendingTotalCap: positive(flags.pendingTotalCap, "--pending-total-cap") }),
  });
  // Whatever ends the run, a signal or an error of our own, the control plane closes: it writes
  // gateway.stopped and a final checkpoint and releases the lock.
  let supervisor: AgentSupervisor | undefined;
  let mcpBroker: McpBroker | undefined;
  let consoleServer: ConsoleServer | undefined;
  let agentsNote = "agents: starting";
  const agentStatus = (agent: string) => supervisor?.status(agent) ?? agentsNote;
  try {
    consoleServer =
      flags.console === undefined
        ? undefined
        : await serveConsole(
            controlPlane,
            flags.console,
            flags.dev === true,
            flags.consoleOrigin,
            agentStatus,
          );
    const agents =
      flags.agents === false
        ? { note: "agents: not started (--no-agents)" }
        : await startAgents(
            controlPlane,
            stateDir,
            flags.mountsRoot === undefined ? undefined : resolve(io.cwd, flags.mountsRoot),
            providers,
            context,
          );
    supervisor = agents.supervisor;
    mcpBroker = agents.mcp;
    agentsNote = agents.note;
    const tokens = join(stateDir, "tokens");
    if (flags.json === true) {
      writeJson(io, {
        schema: "https://ironclaw.dev/schemas/up/v1",
        url: controlPlane.url,
        state: stateDir,
        head: controlPlane.gateway.head,
        tokens,
        console: consoleServer?.origin ?? null,
        agents: agents.note,
      });
    } else {
      const recovered = controlPlane.gateway.recovery;
      io.stdout.write(
        `ironclaw control plane listening on ${controlPlane.url}${flags.dev === true ? " (loopback only: --dev)" : ""}\n` +
          `state   ${stateDir} (audit log head #${controlPlane.gateway.head.seq})\n` +
          (consoleServer === undefined
            ? ""
            : `console ${consoleServer.origin} (sign in with a token below)\n`) +
          `tokens  ${join(tokens, "operator.token")} (operator), ${join(tokens, "viewer.token")} (viewer)\n` +
          (recovered.truncatedBytes > 0
            ? `recovered: a torn last record (${recovered.truncatedBytes} bytes) was cut from the log\n`
            : "") +
          (recovered.unsignedRecords !== undefined
            ? `recovered: ${recovered.unsignedRecords} records no host signature covered were moved to ${recovered.quarantine}; see ironclaw audit verify\n`
            : "") +
          `${agents.note}\n` +
          "every change is held until an operator approves it: ironclaw changes list --status pending\n",
      );
    }
    await stopRequested;
  } finally {
    await supervisor?.close().catch(() => undefined);
    await mcpBroker?.close().catch(() => undefined);
    await consoleServer?.close();
    await controlPlane.close();
  }
}
