import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SandboxError } from "../errors.js";
import { AGENT_SOCKET_GREETING, KEY_CANARY_PREFIX } from "./invariants.js";

export const MOUNT_FILE = "readme.txt";
export const MOUNT_CONTENT = "approved for the probe, read-only\n";

/** What the harness sets up on the host for the probe to (fail to) reach. */
export interface HostFixtures {
  readonly root: string;
  readonly appDir: string;
  readonly workspaceDir: string;
  readonly otherWorkspaceDir: string;
  readonly stateDir: string;
  readonly tokenFile: string;
  /** The mounts root: "approved" (mounted read-only) and "unapproved" beside it. */
  readonly mountsRoot: string;
  /** Holds agent.sock only: egress is not approved. */
  readonly socketDir: string;
  /** Holds agent.sock and egress.sock: egress is approved. */
  readonly egressSocketDir: string;
  readonly modelSocketDir: string;
  /** The provider key the host holds for the "model" run, and the file it is kept in. */
  readonly modelKey: string;
  readonly modelKeyFile: string;
  /** A host process for the probe to look for; never pid 1, unlike a harness run as a container's init. */
  readonly hostPid: number;
  readonly loopbackPort: number;
  readonly controlPlanePort: number;
  readonly nameserver?: string;
  close(): Promise<void>;
}

function listening(
  server: Server | ReturnType<typeof createHttpServer>,
  where: string | number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    if (typeof where === "number") server.listen(where, "127.0.0.1", () => resolve());
    else server.listen(where, () => resolve());
  });
}

/** Says hello and hangs up; a probe that drops the connection first (a reset) is not the harness's problem. */
function greet(socket: Socket, text: string): void {
  socket.on("error", () => {});
  socket.end(text);
}

function portOf(server: Server | ReturnType<typeof createHttpServer>): number {
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

async function hostNameserver(): Promise<string | undefined> {
  try {
    return /^nameserver\s+(\S+)/m.exec(await readFile("/etc/resolv.conf", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * A scratch tree: the runtime dir, this agent's workspace and another agent's, a fake state dir with
 * tokens/operator.token, the two socket dirs; a TCP listener and an HTTP "control plane" on the host's
 * 127.0.0.1, and the agent socket's server. Closing removes all of it.
 */
export async function createHostFixtures(scratchParent = tmpdir()): Promise<HostFixtures> {
  const root = await mkdtemp(join(scratchParent, "ironclaw-containment-"));
  const servers: (Server | ReturnType<typeof createHttpServer>)[] = [];
  const sentinel = spawn(process.execPath, ["-e", "setInterval(() => {}, 60000)"], {
    stdio: "ignore",
    env: { IRONCLAW_SENTINEL: "a host secret the sandbox must not read" },
  });
  const spawned = once(sentinel, "spawn");
  spawned.catch(() => {}); // awaited below; a failure to start is reported there
  const close = async () => {
    if (sentinel.pid !== undefined && sentinel.exitCode === null && sentinel.signalCode === null) {
      sentinel.kill("SIGKILL");
      await once(sentinel, "exit");
    }
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            if ("closeAllConnections" in server) server.closeAllConnections();
            server.close(() => resolve());
          }),
      ),
    );
    await rm(root, { recursive: true, force: true });
  };
  try {
    const dirs = {
      appDir: join(root, "app"),
      workspaceDir: join(root, "workspaces", "agent-probe"),
      otherWorkspaceDir: join(root, "workspaces", "agent-other"),
      stateDir: join(root, "state"),
      socketDir: join(root, "sockets"),
      egressSocketDir: join(root, "sockets-egress"),
      modelSocketDir: join(root, "sockets-model"),
      mountsRoot: join(root, "mounts"),
    };
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    await writeFile(join(dirs.otherWorkspaceDir, "secret.txt"), "another agent's data\n");
    for (const sub of ["approved", "unapproved"]) await mkdir(join(dirs.mountsRoot, sub));
    await writeFile(join(dirs.mountsRoot, "approved", MOUNT_FILE), MOUNT_CONTENT);
    await writeFile(join(dirs.mountsRoot, "unapproved", "secret.txt"), "not approved for any agent\n");
    await mkdir(join(dirs.stateDir, "tokens"), { mode: 0o700 });
    const tokenFile = join(dirs.stateDir, "tokens", "operator.token");
    await writeFile(tokenFile, "ironclaw-fake-operator-token\n", { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    // A provider key as the host holds one: in a 0600 file of the state directory.
    const modelKey = `${KEY_CANARY_PREFIX}${randomBytes(16).toString("hex")}`;
    const modelKeyFile = join(dirs.stateDir, "model-provider.key");
    await writeFile(modelKeyFile, `${modelKey}\n`, { mode: 0o600 });

    const loopback = createServer((socket) => greet(socket, "ironclaw-harness\n"));
    const controlPlane = createHttpServer((_req, res) =>
      res.end("ironclaw control plane (self-test stand-in)\n"),
    );
    servers.push(loopback, controlPlane);
    await listening(loopback, 0);
    await listening(controlPlane, 0);
    for (const dir of [dirs.socketDir, dirs.egressSocketDir, dirs.modelSocketDir]) {
      const agentSocket = createServer((socket) => greet(socket, `${AGENT_SOCKET_GREETING}\n`));
      servers.push(agentSocket);
      await listening(agentSocket, join(dir, "agent.sock"));
    }
    const nameserver = await hostNameserver();
    await spawned;
    return {
      root,
      ...dirs,
      tokenFile,
      modelKey,
      modelKeyFile,
      hostPid: sentinel.pid ?? 0,
      loopbackPort: portOf(loopback),
      controlPlanePort: portOf(controlPlane),
      ...(nameserver === undefined ? {} : { nameserver }),
      close,
    };
  } catch (error) {
    await close();
    throw new SandboxError(
      "IC_SANDBOX_SELFTEST_SETUP",
      `could not set up the self-test's host fixtures in ${root}`,
      {
        cause: error,
      },
    );
  }
}
