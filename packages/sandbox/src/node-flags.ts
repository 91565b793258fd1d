import { INSIDE, type SandboxSpec } from "./spec.js";

/** Node ≥ 22.13 (and 23.5) call the permission model stable: `--permission`; older ones only know the experimental flag. */
export function permissionFlag(nodeVersion: string): "--permission" | "--experimental-permission" {
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, "").split(".").map(Number);
  const stable = major >= 24 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13);
  return stable ? "--permission" : "--experimental-permission";
}

/** V8's old space gets three quarters of the memory limit; the rest is code, stacks and buffers. */
export function maxOldSpaceMiB(memoryBytes: number): number {
  return Math.max(16, Math.floor((memoryBytes * 3) / 4 / (1024 * 1024)));
}

/**
 * The runtime's own flags: the permission model grants reads of the app, the workspace (unless its
 * mode is "none") and the mounts, and writes to /tmp, the workspace (mode "rw") and read-write mounts. Child processes, workers, addons and WASI stay denied by
 * leaving their --allow-* flags out. Checked on Node 20: the entry must be readable (else startup
 * fails with ERR_ACCESS_DENIED), the node binary need not be, and /run/ironclaw needs no grant since
 * connecting to a unix socket is not an fs access in Node 20's model.
 */
export function runtimeFlags(spec: SandboxSpec, nodeVersion: string): string[] {
  const flags: string[] = [];
  if (!spec.weaken?.includes("no-permission-model")) {
    const permission = permissionFlag(nodeVersion);
    // The agent's stderr should not open with a warning on every start.
    if (permission === "--experimental-permission") flags.push("--disable-warning=ExperimentalWarning");
    const workspace = spec.workspace ?? "rw";
    const mounts = spec.mounts ?? [];
    // The bare path grants a file, or a directory and what it holds, not a sibling sharing its prefix
    // (checked on Node 20; naming both "path" and "path/*" crashes Node 20's permission tree).
    const paths = (readOnly: boolean) => mounts.filter((m) => readOnly || !m.readOnly).map((m) => m.target);
    flags.push(
      permission,
      `--allow-fs-read=${INSIDE.app}/*`,
      ...(workspace === "none" ? [] : [`--allow-fs-read=${INSIDE.workspace}/*`]),
      // Its private scratch space: what it writes there it may read back.
      `--allow-fs-read=${INSIDE.tmp}/*`,
      ...paths(true).map((path) => `--allow-fs-read=${path}`),
      ...(workspace === "rw" ? [`--allow-fs-write=${INSIDE.workspace}/*`] : []),
      `--allow-fs-write=${INSIDE.tmp}/*`,
      ...paths(false).map((path) => `--allow-fs-write=${path}`),
      "--disallow-code-generation-from-strings",
    );
  }
  if (spec.limits?.memoryBytes !== undefined)
    flags.push(`--max-old-space-size=${maxOldSpaceMiB(spec.limits.memoryBytes)}`);
  return flags;
}
