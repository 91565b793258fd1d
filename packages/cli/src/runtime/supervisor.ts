import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startEgressBroker } from "@ironclaw/egress";
import {
  type AgentApi,
  type AgentMcp,
  type AgentRecord,
  agentNamed,
  type Gateway,
  type Principal,
  type Registry,
  startAgentApi,
} from "@ironclaw/gateway";
import type { ModelProxy } from "@ironclaw/model-proxy";
import { isSandboxError, launchSandbox } from "@ironclaw/sandbox";
import { gatewayAuditSink } from "./audit-sink.js";
import { type ModelChannelOptions, syncModelProxy } from "./model-channel.js";
import { descendants, killTree } from "./process-tree.js";
import { narrows, sandboxShape, shapeKey } from "./sandbox-shape.js";

export interface CrashBackoff {
  /** The wait before the first relaunch; each later one doubles, up to maxMs. */
  readonly firstMs: number;
  readonly maxMs: number;
  /** Crashes in a row before the supervisor stops relaunching (until the next change to the sandbox). */
  readonly attempts: number;
}

export const CRASH_BACKOFF: CrashBackoff = { firstMs: 1000, maxMs: 60_000, attempts: 5 };

export interface SupervisorOptions {
  readonly stateDir: string;
  readonly gateway: Gateway;
  /** The bundled agent runtime: a directory and the file in it to run. */
  readonly runtimeDir: string;
  readonly entry: string;
  readonly nodePath?: string;
  /** The operator's --mounts-root: every approved mount's source is resolved under it at launch. */
  readonly mountsRoot?: string;
  /** Extra CAs the egress broker trusts (a test's HTTPS server on loopback). */
  readonly egressCa?: readonly (string | Buffer)[];
  readonly crashBackoff?: CrashBackoff;
  /** The operator's model providers and the usage ledger; without them no agent gets a model socket. */
  readonly model?: ModelChannelOptions;
  /** The MCP broker every agent API hands its MCP tool calls to. */
  readonly mcp?: AgentMcp;
  /**
   * How long a change that takes something away from a running sandbox (workspace access, a mount)
   * waits for the agent to be idle before the sandbox is replaced mid-task. Default 30 s.
   */
  readonly revokeGraceMs?: number;
  /** Where an agent's sandbox reports that it stopped. */
  readonly onExit?: (agent: string, code: number | null, stderr: string) => void;
}

/** What each agent's sandbox may use; the process limit holds only when the host runs it as non-root. */
export const AGENT_LIMITS = {
  memoryBytes: 512 * 1024 * 1024,
  cpuSeconds: 3600,
  processes: 64,
  openFiles: 256,
  fileBytes: 64 * 1024 * 1024,
} as const;

interface Entry {
  readonly name: string;
  readonly principal: Principal;
  readonly api: AgentApi;
  sandbox: ChildProcess | undefined;
  /** The shape (sandboxShape's key) the current sandbox was built from. */
  shape: string;
  broker: { close(): Promise<void> } | undefined;
  /** The model proxy on the agent's model.sock, while a `model` change is applied for it. */
  model: ModelProxy | undefined;
  /** An applied change altered the sandbox; it is rebuilt when the agent is next idle. */
  restartPending: boolean;
  /** Frozen at an idle point (SIGSTOP) and about to be replaced: no new task can start in it. */
  stopping: boolean;
  /** Every inbound message up to here was handled: the agent was idle after it. */
  resumeAfter: number;
  crashes: number;
  lastExit: string | undefined;
  retryAt: number | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  /** Armed when a pending restart takes something away: it then happens even mid-task. */
  revokeTimer: NodeJS.Timeout | undefined;
}

/** An agent may reach out only with http_fetch enabled and at least one approved host. */
function egressGranted(agent: AgentRecord | undefined): boolean {
  return agent?.tools.includes("http_fetch") === true && agent.egress.length > 0;
}

function running(entry: Entry): boolean {
  const sandbox = entry.sandbox;
  return sandbox !== undefined && sandbox.exitCode === null && sandbox.signalCode === null;
}

/**
 * Runs each agent of the registry in its own sandbox with its own agent API, and an egress broker
 * only while an approved change grants it egress. It follows the registry, which follows the log. A
 * change to what the sandbox is built from (mounts, workspace grants) rebuilds it at the agent's next
 * idle point, never mid-task; the workspace persists. A sandbox that stops on its own is relaunched
 * with a doubling back-off, a bounded number of times in a row.
 */
export class AgentSupervisor {
  readonly #options: SupervisorOptions;
  readonly #backoff: CrashBackoff;
  readonly #entries = new Map<string, Entry>();
  #unsubscribe: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#backoff = options.crashBackoff ?? CRASH_BACKOFF;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#options.gateway.onRegistryChange((registry) => {
      this.#enqueue(() => this.#reconcile(registry));
    });
    await this.#reconcile(this.#options.gateway.registry);
  }

  /** Resolves once every registry change (and restart) seen so far has been acted on. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** What the console shows: whether the sandbox runs, its egress broker, a pending restart, crashes. */
  status(agent: string): string {
    const entry = this.#entries.get(agent);
    if (entry === undefined) return "not running";
    if (entry.crashes > this.#backoff.attempts)
      return `stopped after ${entry.crashes} failures in a row (last: ${entry.lastExit ?? "unknown"}); it starts again on the next approved change to its sandbox`;
    if (entry.retryAt !== undefined)
      return `restarting in ${Math.max(0, Math.ceil((entry.retryAt - Date.now()) / 1000))}s after ${entry.lastExit ?? "a failure"} (attempt ${entry.crashes} of ${this.#backoff.attempts})`;
    if (entry.stopping) return "restarting at an idle point: the old sandbox is being stopped";
    if (!running(entry)) return `stopped (${entry.lastExit ?? "not started"})`;
    return (
      "running in its sandbox" +
      (entry.broker === undefined ? "" : ", egress broker open") +
      (entry.model === undefined ? "" : ", model proxy open") +
      (entry.restartPending ? "; restart pending: a change to its sandbox applies when it is next idle" : "")
    );
  }

  /** The pids of the agent's sandbox (bwrap and everything under it), for the tests. */
  sandboxPids(agent: string): number[] {
    const entry = this.#entries.get(agent);
    const pid = entry?.sandbox?.pid;
    return entry === undefined || pid === undefined || !running(entry) ? [] : [pid, ...descendants(pid)];
  }

  agentDir(agent: string): string {
    return join(this.#options.stateDir, "agents", agent);
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch(() => undefined);
  }

  async #reconcile(registry: Registry): Promise<void> {
    if (this.#closed) return;
    for (const agent of Object.values(registry.agents)) {
      let entry = this.#entries.get(agent.name);
      if (entry === undefined) {
        entry = await this.#create(agent.name);
        this.#entries.set(agent.name, entry);
        await this.#launch(entry);
      } else if (shapeKey(sandboxShape(agent)) === entry.shape) {
        // Changed and changed back before it was idle: the running sandbox is right as it is.
        if (!entry.stopping) {
          entry.restartPending = false;
          clearTimeout(entry.revokeTimer);
          entry.revokeTimer = undefined;
        }
      } else {
        if (running(entry)) {
          entry.restartPending = true;
          if (narrows(entry.shape, sandboxShape(agent))) this.#armRevoke(entry);
        } else if (!entry.stopping) {
          // Nothing runs, so no task can be cut short: a new sandbox now, with a fresh back-off.
          clearTimeout(entry.retryTimer);
          entry.retryAt = undefined;
          entry.crashes = 0;
          await this.#launch(entry);
        }
      }
      await this.#egress(entry, agent);
      entry.model = await syncModelProxy(
        entry.model,
        agent,
        join(this.agentDir(agent.name), "run"),
        this.#options.gateway,
        this.#options.model,
      );
    }
  }

  async #egress(entry: Entry, agent: AgentRecord): Promise<void> {
    const granted = egressGranted(agent);
    if (granted && entry.broker === undefined) {
      entry.broker = await startEgressBroker({
        socketPath: join(this.agentDir(agent.name), "run", "egress.sock"),
        agent: agent.name,
        // Read at every request: the registry as of the last applied change, nothing else.
        allowlist: () => {
          const current = agentNamed(this.#options.gateway.registry, agent.name);
          return egressGranted(current) ? (current?.egress ?? []) : [];
        },
        audit: gatewayAuditSink(this.#options.gateway),
        ...(this.#options.egressCa === undefined ? {} : { ca: this.#options.egressCa }),
      });
    } else if (!granted && entry.broker !== undefined) {
      await entry.broker.close();
      entry.broker = undefined;
    }
  }

  async #create(agent: string): Promise<Entry> {
    const dir = this.agentDir(agent);
    await mkdir(join(dir, "workspace"), { recursive: true, mode: 0o700 });
    await mkdir(join(dir, "run"), { recursive: true, mode: 0o700 });
    let entry: Entry | undefined;
    const api = await startAgentApi({
      gateway: this.#options.gateway,
      agent,
      socketPath: join(dir, "run", "agent.sock"),
      ...(this.#options.mcp === undefined ? {} : { mcp: this.#options.mcp }),
      onIdle: () => {
        if (entry !== undefined) this.#idle(entry);
      },
    });
    entry = {
      name: agent,
      principal: Object.freeze({ id: `agent:${agent}`, role: "agent", agent }),
      api,
      sandbox: undefined,
      shape: "",
      broker: undefined,
      model: undefined,
      restartPending: false,
      stopping: false,
      resumeAfter: 0,
      crashes: 0,
      lastExit: undefined,
      retryAt: undefined,
      retryTimer: undefined,
      revokeTimer: undefined,
    };
    return entry;
  }

  /** The agent polled and nothing was waiting: it is between tasks. */
  #idle(entry: Entry): void {
    try {
      const newer = this.#options.gateway.messages(entry.principal, entry.name, "in", entry.resumeAfter);
      entry.resumeAfter = newer.at(-1)?.seq ?? entry.resumeAfter;
    } catch {
      // The agent's answer must not fail for this; the cursor stays where it was.
    }
    entry.crashes = 0;
    this.#replace(entry);
  }

  /**
   * A revocation cannot wait for an idle point the agent may never reach (a compromised agent need
   * never poll its inbox): past the grace period its sandbox is replaced mid-task. The task's message
   * is handled again by the new sandbox, which resumes after the last idle point.
   */
  #armRevoke(entry: Entry): void {
    if (entry.revokeTimer !== undefined) return;
    entry.revokeTimer = setTimeout(() => {
      entry.revokeTimer = undefined;
      this.#replace(entry);
    }, this.#options.revokeGraceMs ?? 30_000);
    entry.revokeTimer.unref();
  }

  /** Freezes the sandbox and queues its replacement, if a restart is pending. */
  #replace(entry: Entry): void {
    if (!entry.restartPending || entry.stopping || this.#closed || !running(entry)) return;
    clearTimeout(entry.revokeTimer);
    entry.revokeTimer = undefined;
    entry.stopping = true;
    // Frozen now, synchronously, before its next poll can pick up a task; replaced in turn.
    const pid = entry.sandbox?.pid;
    if (pid !== undefined)
      for (const target of [pid, ...descendants(pid)]) {
        try {
          process.kill(target, "SIGSTOP");
        } catch {
          // Gone already; killTree finds out.
        }
      }
    this.#enqueue(() => this.#restart(entry));
  }

  async #restart(entry: Entry): Promise<void> {
    try {
      if (entry.sandbox !== undefined) await killTree(entry.sandbox);
    } catch (error) {
      // Never a second sandbox beside one that would not die.
      entry.lastExit = `could not stop the old sandbox: ${(error as Error).message}`;
      return;
    } finally {
      entry.stopping = false;
    }
    if (!this.#closed) await this.#launch(entry);
  }

  /** A new sandbox built from the registry as it is now. */
  async #launch(entry: Entry): Promise<void> {
    entry.retryAt = undefined;
    const agent = agentNamed(this.#options.gateway.registry, entry.name);
    if (agent === undefined || this.#closed) return;
    const shape = sandboxShape(agent);
    entry.shape = shapeKey(shape);
    entry.restartPending = false;
    const dir = this.agentDir(entry.name);
    let sandbox: ChildProcess;
    try {
      sandbox = launchSandbox({
        nodePath: this.#options.nodePath ?? process.execPath,
        runtimeDir: this.#options.runtimeDir,
        entry: this.#options.entry,
        workspaceDir: join(dir, "workspace"),
        workspace: shape.workspace,
        socketDir: join(dir, "run"),
        ...(this.#options.mountsRoot === undefined ? {} : { mountsRoot: this.#options.mountsRoot }),
        mounts: shape.mounts,
        // Where its inbox resumes: every message up to here was handled before the last idle point.
        env: { IRONCLAW_AGENT: entry.name, IRONCLAW_MESSAGES_AFTER: String(entry.resumeAfter) },
        limits: AGENT_LIMITS,
      });
    } catch (error) {
      const code = isSandboxError(error) ? error.code : "IC_SANDBOX_INVALID_SPEC";
      const reason = error instanceof Error ? error.message : String(error);
      this.#options.gateway.recordSecurityEvent({ type: "sandbox.refused", agent: entry.name, code, reason });
      entry.sandbox = undefined;
      this.#failed(entry, `refused to start: ${code}: ${reason}`);
      return;
    }
    entry.sandbox = sandbox;
    let stderr = "";
    sandbox.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4096);
    });
    sandbox.once("exit", (code, signal) => {
      // Stopped by us (a restart, or close): not a crash.
      if (this.#closed || entry.sandbox !== sandbox || entry.stopping) return;
      this.#options.onExit?.(entry.name, code, stderr);
      this.#failed(entry, `exit ${code ?? signal}`);
    });
  }

  /** Relaunches after a doubling wait, or gives up after too many failures in a row. */
  #failed(entry: Entry, why: string): void {
    entry.lastExit = why;
    entry.crashes += 1;
    if (entry.crashes > this.#backoff.attempts || this.#closed) return;
    const delay = Math.min(this.#backoff.maxMs, this.#backoff.firstMs * 2 ** (entry.crashes - 1));
    entry.retryAt = Date.now() + delay;
    entry.retryTimer = setTimeout(() => this.#enqueue(() => this.#launch(entry)), delay);
    entry.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    for (const entry of this.#entries.values()) {
      clearTimeout(entry.retryTimer);
      clearTimeout(entry.revokeTimer);
    }
    await this.#queue;
    for (const entry of this.#entries.values()) {
      if (entry.sandbox !== undefined) await killTree(entry.sandbox).catch(() => undefined);
      await entry.broker?.close();
      await entry.model?.close();
      await entry.api.close();
    }
    this.#entries.clear();
  }
}
