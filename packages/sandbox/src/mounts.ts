import { closeSync, fstatSync, openSync, readlinkSync, realpathSync } from "node:fs";
import { posix } from "node:path";
import { SandboxError } from "./errors.js";

/** A host file or directory an operator approved for an agent, seen at `target` inside its sandbox. */
export interface SandboxMount {
  /** Relative to the operator's mounts root (--mounts-root), never absolute. */
  readonly source: string;
  /** Absolute, under /mnt/. */
  readonly target: string;
  /** Read-only unless approved otherwise. */
  readonly readOnly: boolean;
}

export const MAX_MOUNTS = 16;
const MAX_TARGET = 256;
const MAX_SOURCE = 1024;
/** Where mounts go; everything else inside is the runtime's own. */
export const MOUNTS_PARENT = "/mnt";

/** Paths of the runtime's own, named so a refusal says which one a target would have covered. */
const RESERVED = ["/proc", "/dev", "/sys", "/run", "/runtime", "/workspace", "/tmp", "/etc", "/usr"];

// Plain names only: no space, control, format (zero-width, bidi) or other character a reader misses.
const TARGET_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const HIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;

function targetError(target: string, message: string): never {
  throw new SandboxError(
    "IC_SANDBOX_MOUNT_TARGET",
    `mount target ${JSON.stringify(target)}: ${message}; expected a normalized path under ${MOUNTS_PARENT}/ such as /mnt/data`,
  );
}

function sourceError(source: string, message: string): never {
  throw new SandboxError("IC_SANDBOX_MOUNT_SOURCE", `mount source ${JSON.stringify(source)}: ${message}`);
}

/** Refuses a target that is not a plain path under /mnt/ (so never /proc, /run/ironclaw, /workspace or /). */
export function checkMountTarget(target: string): void {
  if (typeof target !== "string" || target.length === 0) targetError(String(target), "empty");
  if (target.length > MAX_TARGET) targetError(target.slice(0, 64), `longer than ${MAX_TARGET} characters`);
  if (HIDDEN.test(target)) targetError(target, "holds an invisible or control character");
  if (!target.startsWith("/")) targetError(target, "not absolute");
  if (posix.normalize(target) !== target || target.endsWith("/"))
    targetError(target, "not normalized ('..', '.', '//' or a trailing '/')");
  for (const reserved of ["/", ...RESERVED])
    if (target === reserved || target.startsWith(`${reserved}/`) || reserved.startsWith(`${target}/`))
      targetError(target, `covers the sandbox's own ${reserved}`);
  const segments = target.split("/").slice(1);
  if (segments[0] !== MOUNTS_PARENT.slice(1) || segments.length < 2) targetError(target, "not under /mnt/");
  for (const segment of segments)
    if (!TARGET_SEGMENT.test(segment) || segment === "." || segment === "..")
      targetError(target, `segment ${JSON.stringify(segment)} is not a plain name (A-Z a-z 0-9 . _ -)`);
}

/** Refuses a source that is not a plain relative path (the gateway checks the same at submission). */
export function checkMountSource(source: string): void {
  if (typeof source !== "string" || source.length === 0) sourceError(String(source), "empty");
  if (source.length > MAX_SOURCE) sourceError(source.slice(0, 64), `longer than ${MAX_SOURCE} characters`);
  if (HIDDEN.test(source)) sourceError(source, "holds an invisible or control character");
  if (source.includes("\\")) sourceError(source, "holds a backslash");
  if (source.startsWith("/")) sourceError(source, "must be relative to the mounts root");
  if (source.split("/").some((segment) => segment === "" || segment === "." || segment === ".."))
    sourceError(source, "must be a plain relative path, without '.', '..' or '//'");
}

/** Every mount well formed, at most MAX_MOUNTS, no target equal to or inside another (bwrap would create it in the host's tree). */
export function checkMounts(mounts: readonly SandboxMount[]): void {
  if (!Array.isArray(mounts)) throw new SandboxError("IC_SANDBOX_INVALID_SPEC", "mounts must be a list");
  if (mounts.length > MAX_MOUNTS)
    throw new SandboxError("IC_SANDBOX_INVALID_SPEC", `at most ${MAX_MOUNTS} mounts, not ${mounts.length}`);
  for (const mount of mounts) {
    checkMountSource(mount.source);
    checkMountTarget(mount.target);
    if (typeof mount.readOnly !== "boolean")
      throw new SandboxError("IC_SANDBOX_INVALID_SPEC", `mount ${mount.target}: readOnly must be a boolean`);
  }
  for (const a of mounts)
    for (const b of mounts)
      if (a !== b && (a.target === b.target || b.target.startsWith(`${a.target}/`)))
        targetError(b.target, `overlaps the mount at ${a.target}`);
}

/** Mount sources opened once: bwrap binds these descriptors, so what was checked is what is bound. */
export interface OpenedMounts {
  readonly fds: readonly number[];
  /** Closes every descriptor; launchSandbox calls it once bwrap holds its copies. */
  close(): void;
}

// O_PATH (Linux, every architecture Node supports but alpha, sparc and parisc): opens the name without
// reading it, so a FIFO cannot block and a device's open handler never runs. Node has no constant for it.
const O_PATH = 0o10000000;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

function openOne(realRoot: string, mount: SandboxMount): number {
  const fd = (() => {
    try {
      return openSync(posix.join(realRoot, mount.source), O_PATH);
    } catch (error) {
      return sourceError(
        mount.source,
        `cannot be opened under the mounts root ${realRoot}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  })();
  try {
    // What the descriptor is, not what the name now points to: a swap after open changes nothing.
    const real = readlinkSync(`/proc/self/fd/${fd}`);
    if (real !== realRoot && !real.startsWith(`${realRoot}/`))
      sourceError(mount.source, `resolves to ${real}, outside the mounts root ${realRoot}`);
    const stat = fstatSync(fd);
    const type = stat.mode & S_IFMT;
    if (type !== S_IFDIR && type !== S_IFREG)
      sourceError(mount.source, "is neither a regular file nor a directory (a FIFO, socket or device)");
    // A second name may be outside the root: the same file, reachable from elsewhere.
    if (type === S_IFREG && stat.nlink > 1)
      sourceError(mount.source, `has ${stat.nlink} hard links; mount a copy, or a directory holding it`);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Opens each mount's source under the real mounts root, checks what was opened (its real path under
 * the root, a regular file or a directory) and returns the descriptors for bwrap's --bind-fd. All or
 * nothing: on a refusal every descriptor opened so far is closed.
 */
export function openMountSources(mountsRoot: string, mounts: readonly SandboxMount[]): OpenedMounts {
  checkMounts(mounts);
  let realRoot: string;
  try {
    realRoot = realpathSync(mountsRoot);
  } catch (error) {
    throw new SandboxError(
      "IC_SANDBOX_MOUNT_SOURCE",
      `the mounts root ${mountsRoot} cannot be resolved: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const fds: number[] = [];
  const close = () => {
    for (const fd of fds.splice(0)) closeSync(fd);
  };
  try {
    for (const mount of mounts) fds.push(openOne(realRoot, mount));
  } catch (error) {
    close();
    throw error;
  }
  return { fds: [...fds], close };
}
