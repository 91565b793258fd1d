import { isAbsolute, normalize } from "node:path";
import { SandboxError } from "./errors.js";
import { checkMounts, type SandboxMount } from "./mounts.js";

export const WEAKENINGS = ["share-net", "host-root", "no-permission-model", "mounts-rw"] as const;
/**
 * TEST ONLY: each one removes a single layer, so the self-test can prove it notices. "mounts-rw"
 * binds read-only mounts read-write.
 */
export type Weakening = (typeof WEAKENINGS)[number];

export interface SandboxLimits {
  /** RLIMIT_DATA, V8's old space (3/4 of it) and the size of the private /tmp (tmpfs is memory). */
  readonly memoryBytes?: number;
  /** RLIMIT_CPU. */
  readonly cpuSeconds?: number;
  /** RLIMIT_NPROC. The kernel counts every task of the host uid and exempts root: see limits.ts. */
  readonly processes?: number;
  /** RLIMIT_NOFILE. Node needs about 25 descriptors to start. */
  readonly openFiles?: number;
  /** RLIMIT_FSIZE: writes past it fail with EFBIG (Node ignores SIGXFSZ). */
  readonly fileBytes?: number;
}

/**
 * How the agent sees its workspace: read-write (grant workspace.write), read-only (workspace.read
 * only), or not at all (neither grant): an empty directory in the read-only root.
 */
export type WorkspaceMode = "rw" | "ro" | "none";
export const WORKSPACE_MODES: readonly WorkspaceMode[] = ["rw", "ro", "none"];

export interface SandboxSpec {
  /** The host's node binary; inside it is /runtime/node. */
  readonly nodePath: string;
  /** Host directory holding the bundled JS, read-only at /runtime/app. */
  readonly runtimeDir: string;
  /** File inside runtimeDir: plain names, "/" between them. */
  readonly entry: string;
  /** The agent's own workspace, at /workspace as `workspace` says; never another agent's. */
  readonly workspaceDir: string;
  /** "rw" when absent. */
  readonly workspace?: WorkspaceMode;
  /** The operator's mounts root; every mount's source is resolved under it at launch. */
  readonly mountsRoot?: string;
  /** Approved mounts, bound at their targets (read-only unless approved otherwise). */
  readonly mounts?: readonly SandboxMount[];
  /** Host directory of the host's unix sockets (agent.sock; egress.sock once approved), at /run/ironclaw. */
  readonly socketDir: string;
  readonly args?: readonly string[];
  /** The only environment inside, but for PWD=/workspace, which bwrap always sets. */
  readonly env?: Readonly<Record<string, string>>;
  readonly limits?: SandboxLimits;
  readonly weaken?: readonly Weakening[];
}

/** Where things are inside the sandbox. */
export const INSIDE = {
  node: "/runtime/node",
  app: "/runtime/app",
  workspace: "/workspace",
  sockets: "/run/ironclaw",
  tmp: "/tmp",
} as const;

function invalid(message: string): never {
  throw new SandboxError("IC_SANDBOX_INVALID_SPEC", message);
}

function hostPath(name: string, value: string): void {
  if (value.includes("\0")) invalid(`${name} contains a NUL byte`);
  if (!isAbsolute(value)) invalid(`${name} must be an absolute path: ${value}`);
  // A ".." or "//" spelling hides what is really bound.
  if (normalize(value) !== value) invalid(`${name} must be a normalized path: ${value}`);
  // Binding the host's root (read-write, for the workspace) would undo everything else.
  if (value === "/") invalid(`${name} must not be the host's root`);
}

/** Rejects a spec that would not mean what it says, before any argument is built from it. */
export function validateSpec(spec: SandboxSpec): void {
  hostPath("nodePath", spec.nodePath);
  hostPath("runtimeDir", spec.runtimeDir);
  hostPath("workspaceDir", spec.workspaceDir);
  hostPath("socketDir", spec.socketDir);
  // Plain names joined by "/" (a package's bin may sit in a subdirectory); never "." or "..".
  const segments = spec.entry.split("/");
  if (!segments.every((segment) => /^[A-Za-z0-9._-]+$/.test(segment) && segment !== "." && segment !== ".."))
    invalid(`entry must be a relative path of plain names inside runtimeDir: ${spec.entry}`);
  for (const arg of spec.args ?? []) if (arg.includes("\0")) invalid("an argument contains a NUL byte");
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) invalid(`environment variable name is not portable: ${key}`);
    if (value.includes("\0")) invalid(`environment variable ${key} contains a NUL byte`);
    // Either would change what the runtime flags and the bound libraries mean.
    if (key === "NODE_OPTIONS" || key.startsWith("LD_"))
      invalid(`environment variable ${key} is not allowed`);
  }
  for (const [key, value] of Object.entries(spec.limits ?? {})) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0))
      invalid(`limits.${key} must be a positive integer: ${String(value)}`);
  }
  if (spec.workspace !== undefined && !WORKSPACE_MODES.includes(spec.workspace))
    invalid(`workspace must be one of ${WORKSPACE_MODES.join(", ")}: ${String(spec.workspace)}`);
  if (spec.mountsRoot !== undefined) hostPath("mountsRoot", spec.mountsRoot);
  if (spec.mounts !== undefined) {
    checkMounts(spec.mounts);
    if (spec.mounts.length > 0 && spec.mountsRoot === undefined)
      invalid("mounts need a mounts root: start with --mounts-root <dir>");
  }
  for (const weakening of spec.weaken ?? [])
    if (!WEAKENINGS.includes(weakening)) invalid(`unknown weakening: ${String(weakening)}`);
}
