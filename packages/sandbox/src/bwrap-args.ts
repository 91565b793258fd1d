import { SandboxError } from "./errors.js";
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
  /** The descriptor of each of spec.mounts' sources, in order (see openMountSources). */
  readonly mountFds?: readonly number[];
}

/** /workspace as the spec's mode says: the agent's directory read-write or read-only, or an empty one. */
function workspaceArgs(spec: SandboxSpec): string[] {
  switch (spec.workspace ?? "rw") {
    case "rw":
      return ["--bind", spec.workspaceDir, INSIDE.workspace];
    case "ro":
      return ["--ro-bind", spec.workspaceDir, INSIDE.workspace];
    case "none":
      // A directory of the root's tmpfs, read-only with the root: nothing of the host, nowhere to write.
      return ["--dir", INSIDE.workspace];
  }
}

/**
 * Each mount bound from its opened descriptor, never its name: bwrap checks after mounting that what
 * it mounted is the descriptor's inode (or dies) and closes the descriptor, so the runtime never holds it.
 */
function mountArgs(
  spec: SandboxSpec,
  fds: readonly number[] | undefined,
  weaken: ReadonlySet<string>,
): string[] {
  const mounts = spec.mounts ?? [];
  if (mounts.length === 0) return [];
  if (
    fds === undefined ||
    fds.length !== mounts.length ||
    !fds.every((fd) => Number.isSafeInteger(fd) && fd > 2)
  )
    throw new SandboxError(
      "IC_SANDBOX_INVALID_SPEC",
      `expected one opened descriptor (> 2) per mount (${mounts.length}), found ${JSON.stringify(fds ?? null)}`,
    );
  return mounts.flatMap((mount, index) => [
    mount.readOnly && !weaken.has("mounts-rw") ? "--ro-bind-fd" : "--bind-fd",
    String(fds[index]),
    mount.target,
  ]);
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
    ...workspaceArgs(spec),
    // Read-only: the agent can connect to the host's sockets but not create, replace or remove them.
    "--ro-bind",
    spec.socketDir,
    INSIDE.sockets,
  );
  args.push(...mountArgs(spec, options.mountFds, weaken));
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
