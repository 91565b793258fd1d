import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe } from "./probe-util.js";

function mountOf(config: ProbeConfig) {
  if (config.mount === undefined) throw new Error("the harness approved no mount for this run");
  return config.mount;
}

/** Creating, appending, renaming, removing and making a directory in the read-only mount: each must fail. */
export function mountReadOnly(config: ProbeConfig): Observation {
  const { target, file, content } = mountOf(config);
  const created = join(target, `ironclaw-probe-${process.pid}`);
  // Each undone when it went through, so a breach leaves the host's file as it was for the next check.
  const restore = () => writeFileSync(join(target, file), content);
  const tries: [string, () => unknown, () => unknown][] = [
    ["create", () => writeFileSync(created, "probe"), () => unlinkSync(created)],
    ["append", () => appendFileSync(join(target, file), "probe"), restore],
    ["mkdir", () => mkdirSync(`${created}.d`), () => rmdirSync(`${created}.d`)],
    [
      "rename",
      () => renameSync(join(target, file), `${created}.moved`),
      () => renameSync(`${created}.moved`, join(target, file)),
    ],
    ["unlink", () => unlinkSync(join(target, file)), restore],
  ];
  const details: string[] = [];
  let written = false;
  for (const [name, action, undo] of tries) {
    const result = attempt(action);
    if (result.ok) {
      written = true;
      attempt(undo);
    }
    details.push(`${name}: ${result.ok ? "done" : result.reason}`);
  }
  return observe(written ? "allowed" : "denied", details);
}

/**
 * Nothing of the mounts root but the approved mount: not the root itself, not a sibling, not /mnt
 * entries nobody approved, and no open descriptor that reaches the host's side of a mount.
 */
export function mountOnlyApproved(config: ProbeConfig): Observation {
  const { target, hostMountsRoot, unapproved } = mountOf(config);
  const details: string[] = [];
  let seen = false;
  for (const path of [hostMountsRoot, join(hostMountsRoot, unapproved), join("/mnt", unapproved)]) {
    const exists = attempt(() => existsSync(path));
    if (exists.ok && exists.value === true) seen = true;
    details.push(`exists ${path}: ${exists.ok ? String(exists.value) : exists.reason}`);
  }
  const listed = attempt(() => readdirSync("/mnt"));
  if (listed.ok) {
    const extra = (listed.value as string[]).filter((name) => `/mnt/${name}` !== target);
    if (extra.length > 0) seen = true;
    details.push(`/mnt holds ${JSON.stringify(listed.value)}`);
  } else details.push(`readdir /mnt: ${listed.reason}`);
  const fds = attempt(() => readdirSync("/proc/self/fd"));
  if (fds.ok) {
    const links = (fds.value as string[]).map((fd) => {
      const link = attempt(() => readlinkSync(`/proc/self/fd/${fd}`));
      return link.ok ? String(link.value) : "";
    });
    const leaked = links.filter((link) => link.startsWith(hostMountsRoot));
    if (leaked.length > 0) seen = true;
    details.push(`descriptors to the mounts root: ${leaked.length === 0 ? "none" : leaked.join(", ")}`);
  } else details.push(`readdir /proc/self/fd: ${fds.reason}`);
  return observe(seen ? "allowed" : "denied", details);
}

/** Control: the approved mount is at its target and gives back what the host put there. */
export function controlMount(config: ProbeConfig): Observation {
  const { target, file, content } = mountOf(config);
  const read = attempt(() => readFileSync(join(target, file), "utf8"));
  const same = read.ok && read.value === content;
  return observe(same ? "allowed" : "denied", [
    `read ${join(target, file)}: ${read.ok ? (same ? "the host's content" : "different content") : read.reason}`,
  ]);
}
