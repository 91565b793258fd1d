import type { ChildProcess } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startEgressBroker } from "@ironclaw/egress";
import {
  type AgentApi,
  type AgentRecord,
  agentNamed,
  type Gateway,
  type Registry,
  startAgentApi,
} from "@ironclaw/gateway";
import { launchSandbox } from "@ironclaw/sandbox";

export interface SupervisorOptions {
  readonly stateDir: string;
  readonly gateway: Gateway;
  /** The bundled agent runtime: a directory and the file in it to run. */
  readonly runtimeDir: string;
  readonly entry: string;
  readonly nodePath?: string;
  /** Extra CAs the egress broker trusts (a test's HTTPS server on loopback). */
  readonly egressCa?: readonly (string | Buffer)[];
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

interface Running {
  readonly api: AgentApi;
  readonly sandbox: ChildProcess;
  broker: { close(): Promise<void> } | undefined;
}

/** An agent may reach out only with http_fetch enabled and at least one approved host. */
function egressGranted(agent: AgentRecord | undefined): boolean {
  return agent?.tools.includes("http_fetch") === true && agent.egress.length > 0;
}

/**
 * Runs each agent of the registry in its own sandbox with its own agent API, and an egress broker
 * only while an approved change grants it egress. It follows the registry, which follows the log.
 */
export class AgentSupervisor {
  readonly #options: SupervisorOptions;
  readonly #running = new Map<string, Running>();
  #unsubscribe: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.#options.gateway.onRegistryChange((registry) => {
      this.#queue = this.#queue.then(() => this.#reconcile(registry)).catch(() => undefined);
    });
    await this.#reconcile(this.#options.gateway.registry);
  }

  /** Resolves once every registry change seen so far has been acted on. */
  settled(): Promise<void> {
    return this.#queue;
  }

  /** What the console shows: whether the agent's sandbox runs, and whether its egress broker is open. */
  status(agent: string): string {
    const running = this.#running.get(agent);
    if (running === undefined) return "not running";
    const { exitCode, signalCode } = running.sandbox;
    if (exitCode !== null || signalCode !== null) return `stopped (exit ${exitCode ?? signalCode})`;
    return running.broker === undefined
      ? "running in its sandbox"
      : "running in its sandbox, egress broker open";
  }

  agentDir(agent: string): string {
    return join(this.#options.stateDir, "agents", agent);
  }

  async #reconcile(registry: Registry): Promise<void> {
    if (this.#closed) return;
    for (const agent of Object.values(registry.agents)) {
      let running = this.#running.get(agent.name);
      if (running === undefined) {
        running = await this.#launch(agent.name);
        this.#running.set(agent.name, running);
      }
      const granted = egressGranted(agent);
      if (granted && running.broker === undefined) {
        running.broker = await startEgressBroker({
          socketPath: join(this.agentDir(agent.name), "run", "egress.sock"),
          agent: agent.name,
          // Read at every request: the registry as of the last applied change, nothing else.
          allowlist: () => {
            const current = agentNamed(this.#options.gateway.registry, agent.name);
            return egressGranted(current) ? (current?.egress ?? []) : [];
          },
          audit: (event) => this.#options.gateway.recordSecurityEvent({ ...event }),
          ...(this.#options.egressCa === undefined ? {} : { ca: this.#options.egressCa }),
        });
      } else if (!granted && running.broker !== undefined) {
        await running.broker.close();
        running.broker = undefined;
      }
    }
  }

  async #launch(agent: string): Promise<Running> {
    const dir = this.agentDir(agent);
    const workspaceDir = join(dir, "workspace");
    const socketDir = join(dir, "run");
    await mkdir(workspaceDir, { recursive: true, mode: 0o700 });
    await mkdir(socketDir, { recursive: true, mode: 0o700 });
    const api = await startAgentApi({
      gateway: this.#options.gateway,
      agent,
      socketPath: join(socketDir, "agent.sock"),
    });
    const sandbox = launchSandbox({
      nodePath: this.#options.nodePath ?? process.execPath,
      runtimeDir: this.#options.runtimeDir,
      entry: this.#options.entry,
      workspaceDir,
      socketDir,
      env: { IRONCLAW_AGENT: agent },
      limits: AGENT_LIMITS,
    });
    let stderr = "";
    sandbox.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4096);
    });
    sandbox.once("exit", (code) => {
      if (!this.#closed) this.#options.onExit?.(agent, code, stderr);
    });
    return { api, sandbox, broker: undefined };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    await this.#queue;
    for (const running of this.#running.values()) {
      running.sandbox.kill("SIGKILL");
      await running.broker?.close();
      await running.api.close();
    }
    this.#running.clear();
  }
}
