import type { ChildProcess } from "node:child_process";
import { lstat, mkdir, readFile, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, posix, sep } from "node:path";
import { launchSandbox, mcpServerSpec, type SandboxLimits } from "@ironclaw/sandbox";
import { McpBrokerError } from "./errors.js";

const PACKAGE_JSON_BYTES = 1024 * 1024;

/**
 * Default limits of a stdio server's sandbox, an agent's (the CLI's AGENT_LIMITS); the caller may set
 * others. Past its CPU time the server is killed and started afresh at the next call.
 */
export const STDIO_SANDBOX_LIMITS: SandboxLimits = {
  memoryBytes: 512 * 1024 * 1024,
  cpuSeconds: 3600,
  processes: 64,
  openFiles: 256,
  fileBytes: 64 * 1024 * 1024,
};

export interface StdioServerLaunch {
  readonly nodePath: string;
  /** The unpacked package, with what it needs to run. Read-only at /runtime/app. */
  readonly packageDir: string;
  /** The package's npm name: a string `bin` is named after it (without the scope). */
  readonly packageName: string;
  readonly command: string;
  readonly args: readonly string[];
  /** A private directory for the server's writable /workspace. */
  readonly runDir: string;
  /** Only with network: bound read-only at /run/ironclaw. */
  readonly egressSocketDir: string | undefined;
  readonly limits: SandboxLimits;
}

/**
 * The file `command` runs, relative to the package: its `bin` entry in package.json. Refused: no
 * such bin, a path leaving the package (.., absolute, or a symlink that resolves outside), not a file.
 */
export async function resolveBin(packageDir: string, packageName: string, command: string): Promise<string> {
  const invalid = (message: string): never => {
    throw new McpBrokerError("IC_MCP_PACKAGE_INVALID", `${packageName}: ${message}`);
  };
  const manifestPath = join(packageDir, "package.json");
  const info = await lstat(manifestPath).catch(() => undefined);
  if (info === undefined || !info.isFile()) return invalid("expected a package.json file in the package");
  if (info.size > PACKAGE_JSON_BYTES)
    return invalid(`expected a package.json under ${PACKAGE_JSON_BYTES} bytes`);
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8"));
  } catch {
    return invalid("expected package.json to be JSON");
  }
  const bin = (manifest as { bin?: unknown } | null)?.bin;
  const unscoped = packageName.replace(/^@[^/]+\//, "");
  let target: unknown;
  if (typeof bin === "string") target = command === unscoped ? bin : undefined;
  else if (typeof bin === "object" && bin !== null && Object.hasOwn(bin, command))
    target = (bin as Record<string, unknown>)[command];
  if (typeof target !== "string")
    return invalid(`expected a bin named ${JSON.stringify(command)} in package.json`);
  const relative = posix.normalize(target).replace(/^\.\//, "");
  if (
    isAbsolute(relative) ||
    relative.split("/").some((part) => part === ".." || part === "" || part === ".")
  )
    return invalid(
      `the bin ${JSON.stringify(command)} points outside the package: ${JSON.stringify(target)}`,
    );
  const root = await realpath(packageDir);
  const real = await realpath(join(packageDir, relative)).catch(() => undefined);
  if (real === undefined || !real.startsWith(`${root}${sep}`))
    return invalid(`the bin ${JSON.stringify(command)} does not resolve to a file inside the package`);
  if (!(await stat(real)).isFile()) return invalid(`the bin ${JSON.stringify(command)} is not a file`);
  return relative;
}

/**
 * Starts the server in its own bubblewrap sandbox, @ironclaw/sandbox's mcpServerSpec (which the
 * containment self-test probes): an agent's in every layer (namespaces, no capabilities, seccomp,
 * rlimits, Node's permission model, empty environment), holding
 * only node, its libraries, the package (read-only), a private /workspace and /tmp. Its network
 * namespace is its own: no interface but loopback, so no network at all. With an egress socket
 * directory it can also reach that socket, and through it only what that egress broker allows.
 */
export async function launchStdioServer(launch: StdioServerLaunch): Promise<ChildProcess> {
  const entry = await resolveBin(launch.packageDir, launch.packageName, launch.command);
  const workspaceDir = join(launch.runDir, "workspace");
  const emptySockets = join(launch.runDir, "sockets");
  await mkdir(workspaceDir, { recursive: true, mode: 0o700 });
  await mkdir(emptySockets, { recursive: true, mode: 0o700 });
  const spec = mcpServerSpec({
    nodePath: launch.nodePath,
    packageDir: launch.packageDir,
    entry,
    workspaceDir,
    socketDir: launch.egressSocketDir ?? emptySockets,
    args: launch.args,
    limits: launch.limits,
  });
  return launchSandbox(spec, { stdio: "pipe" });
}
