import { runtimeFlags } from "./node-flags.js";
import { INSIDE, type SandboxSpec, validateSpec } from "./spec.js";

/** What the "host-root" weakening shows the sandbox: the host's system directories, as a plain container would. */
export const HOST_ROOT_DIRS = [
  "/bin",
  "/sbin",
  "/usr",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/opt",
  "/var",
  "/home",
  "/root",
  "/srv",
] as const;

export const SANDBOX_HOSTNAME = "ironclaw-sandbox";

export interface BwrapArgsOptions {
  /** Picks the permission flag's name; defaults to the version running this code. */
  readonly nodeVersion?: string;
  /** The descriptor bwrap reads a compiled seccomp filter from; no filter when absent. */
  readonly seccompFd?: number;
}

/**
 * The bwrap command line (without "bwrap") that runs spec's entry under /runtime/node. Pure.
 * `hostLibraries` are the paths the loader looks for (ldd's); each is bound read-only at that path
 * (mount(2) follows a symlink source to the real file), and nothing else of the host's tree is.
 * bwrap always sets no_new_privs (PR_SET_NO_NEW_PRIVS) before it execs the command, so set-uid bits
 * and file capabilities cannot raise privileges inside; the probe checks /proc/self/status.
 */
export function bwrapArgs(
  spec: SandboxSpec,
  hostLibraries: readonly string[],
  options: BwrapArgsOptions = {},
): string[] {
  validateSpec(spec);
  const weaken = new Set(spec.weaken ?? []);
  const args: string[] = [
    // user, ipc, pid, net, uts and cgroup namespaces; the new net namespace has only its loopback.
    "--unshare-all",
    // Explicit, so a host that cannot make a user namespace fails instead of quietly sharing it.
    "--unshare-user",
  ];
  if (weaken.has("share-net")) args.push("--share-net");
  args.push(
    "--disable-userns",
    "--assert-userns-disabled",
    "--die-with-parent",
    // A new session: the agent cannot push keystrokes into the host's terminal (TIOCSTI).
    "--new-session",
    // No reaper: the runtime is the only process, so /proc shows pid 1 and nothing else.
    "--as-pid-1",
    "--cap-drop",
    "ALL",
    "--hostname",
    SANDBOX_HOSTNAME,
    "--clearenv",
  );
  for (const [key, value] of Object.entries(spec.env ?? {})) args.push("--setenv", key, value);

  args.push("--tmpfs", "/", "--ro-bind", spec.nodePath, INSIDE.node);
  if (weaken.has("host-root")) for (const dir of HOST_ROOT_DIRS) args.push("--ro-bind-try", dir, dir);
  else for (const library of hostLibraries) args.push("--ro-bind", library, library);
  args.push(
    "--ro-bind",
    spec.runtimeDir,
    INSIDE.app,
    "--bind",
    spec.workspaceDir,
    INSIDE.workspace,
    // Read-only: the agent can connect to the host's sockets but not create, replace or remove them.
    "--ro-bind",
    spec.socketDir,
    INSIDE.sockets,
  );
  // tmpfs is memory: the memory limit bounds it too.
  if (spec.limits?.memoryBytes !== undefined) args.push("--size", String(spec.limits.memoryBytes));
  args.push(
    "--tmpfs",
    INSIDE.tmp,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--remount-ro",
    "/dev",
    "--remount-ro",
    "/",
    "--chdir",
    INSIDE.workspace,
  );
  if (options.seccompFd !== undefined) args.push("--seccomp", String(options.seccompFd));
  args.push(
    "--",
    INSIDE.node,
    ...runtimeFlags(spec, options.nodeVersion ?? process.versions.node),
    `${INSIDE.app}/${spec.entry}`,
    ...(spec.args ?? []),
  );
  return args;
}
