import { mkdir, rm } from "node:fs/promises";
import type { NetworkInterfaceInfo } from "node:os";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { AuthAudit } from "./api/auth-audit.js";
import { checkBindAddress, defaultListen, parseListen } from "./api/bind.js";
import {
  type ApiServer,
  type ApiServerLimits,
  type SecurityEvent,
  startApiServer,
} from "./api/http-server.js";
import { ensurePrincipals, type PrincipalStore } from "./api/principals.js";
import { gatewayRoutes } from "./api/routes.js";
import type { PackageChecker } from "./changes/verifiers.js";
import { writeFileAtomic } from "./durable-file.js";
import { isGatewayError } from "./errors.js";
import { Gateway, type GatewayOptions } from "./gateway.js";
import { checkStateDirectory } from "./state-dir.js";

export interface ControlPlaneOptions {
  readonly stateDir: string;
  /** Loopback instead of the Tailscale address. */
  readonly dev: boolean;
  /** `ADDR:PORT`; default: the host's Tailscale address (or loopback with dev), port 7878. */
  readonly listen?: string;
  readonly ttlMs?: number;
  readonly mountsRoot?: string;
  /** The package store's checker for `packages` changes; absent: no package can be approved. */
  readonly packages?: PackageChecker;
  /** Where skill archives and their bundles are read; unset: no skill can be approved. */
  readonly skillsRoot?: string;
  /** The trusted root skill signatures verify against (default: the embedded public-good root). */
  readonly skillsTrustedRoot?: GatewayOptions["skillsTrustedRoot"];
  readonly now?: () => Date;
  readonly interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
  readonly checkpointEvery?: number;
  readonly pendingCap?: number;
  readonly pendingTotalCap?: number;
  /** See GatewayOptions.modelProviders (default: only the offline `mock` provider). */
  readonly modelProviders?: GatewayOptions["modelProviders"];
  /** See GatewayOptions.witness. */
  readonly witness?: string;
  readonly limits?: ApiServerLimits;
  /** The window and byte budget of the records refused requests write (default 60 s, 64 KiB). */
  readonly authAudit?: { readonly windowMs?: number; readonly budgetBytes?: number };
}

export interface ControlPlane {
  readonly url: string;
  readonly gateway: Gateway;
  readonly principals: PrincipalStore;
  /** For another listener of this process (the console): its refusals, aggregated and budgeted like the API's. */
  noteSecurityEvent(event: SecurityEvent): void;
  close(): Promise<void>;
}

/** Where `ironclaw up` says it listens, for the CLI on the same host. */
export const API_FILE = "api.json";
const EXPIRY_SWEEP_MS = 1_000;

/**
 * `ironclaw up`: the listen address is refused before anything else happens, then the state directory,
 * the log (which takes the single-writer lock), the tokens and last the API. The lock comes before the
 * tokens: two starts on an empty directory once both minted tokens, and one's principals.json could
 * pair with the other's operator.token, which was then refused.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const interfaces = options.interfaces ?? networkInterfaces();
  const bind = { dev: options.dev, interfaces };
  const listen = options.listen === undefined ? defaultListen(bind) : parseListen(options.listen);
  checkBindAddress(listen.host, bind);
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  await checkStateDirectory(options.stateDir);
  let principals: PrincipalStore | undefined;
  const gatewayOptions: GatewayOptions = {
    stateDir: options.stateDir,
    effects: {
      // Idempotent: after a crash between minting and the applied record, a retry keeps the token.
      createAgentCredentials: async (agent) => {
        const store = principals as PrincipalStore;
        if (store.principals.some((p) => p.role === "agent" && p.agent === agent)) return;
        await store.addAgent(agent);
      },
    },
    ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
    ...(options.mountsRoot === undefined ? {} : { mountsRoot: options.mountsRoot }),
    ...(options.packages === undefined ? {} : { packages: options.packages }),
    ...(options.skillsRoot === undefined ? {} : { skillsRoot: options.skillsRoot }),
    ...(options.skillsTrustedRoot === undefined ? {} : { skillsTrustedRoot: options.skillsTrustedRoot }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.checkpointEvery === undefined ? {} : { checkpointEvery: options.checkpointEvery }),
    ...(options.pendingCap === undefined ? {} : { pendingCap: options.pendingCap }),
    ...(options.pendingTotalCap === undefined ? {} : { pendingTotalCap: options.pendingTotalCap }),
    ...(options.witness === undefined ? {} : { witness: options.witness }),
    ...(options.modelProviders === undefined ? {} : { modelProviders: options.modelProviders }),
  };
  const gateway = await Gateway.open(gatewayOptions);
  try {
    principals = await ensurePrincipals(options.stateDir);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  const store = principals;
  // Refused requests are counted, and written as one record per source and window, within a budget.
  const authAudit = new AuthAudit({
    emit: (event) => gateway.recordSecurityEvent({ ...event }),
    ...(options.authAudit ?? {}),
    ...(options.now === undefined ? {} : { now: () => (options.now as () => Date)().getTime() }),
  });
  const auditFlush = setInterval(() => authAudit.flush(), options.authAudit?.windowMs ?? 60_000);
  auditFlush.unref();
  let server: ApiServer;
  try {
    server = await startApiServer({
      host: listen.host,
      port: listen.port,
      dev: options.dev,
      interfaces,
      authenticate: store.authenticate,
      handler: gatewayRoutes(gateway),
      ready: () => gateway.ready,
      onSecurityEvent: (event) => authAudit.note(event),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
  } catch (error) {
    clearInterval(auditFlush);
    await gateway.close();
    throw error;
  }
  const apiFile = join(options.stateDir, API_FILE);
  await writeFileAtomic(apiFile, `${JSON.stringify({ url: server.url, pid: process.pid })}\n`, 0o600);
  const sweep = setInterval(() => {
    gateway.expireDue().catch((error: unknown) => {
      if (!isGatewayError(error)) throw error;
    });
  }, EXPIRY_SWEEP_MS);
  sweep.unref();
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    gateway,
    principals: store,
    noteSecurityEvent: (event) => authAudit.note(event),
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        clearInterval(auditFlush);
        await server.close();
        authAudit.flush();
        await rm(apiFile, { force: true });
        await gateway.close();
      })();
      return closing;
    },
  };
}
