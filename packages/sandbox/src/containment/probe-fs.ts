import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { AGENT_WORKSPACE_MARKER, type ProbeConfig } from "./invariants.js";
import { attempt, type Observation, observe } from "./probe-util.js";

/** Tries to create `dir` (when missing) and a file in it; either succeeding is a write. */
function tryWrite(dir: string): Observation {
  const file = join(dir, `ironclaw-probe-${process.pid}`);
  const created = attempt(() => mkdirSync(dir));
  const written = attempt(() => writeFileSync(file, "probe"));
  if (written.ok) attempt(() => unlinkSync(file));
  if (created.ok) attempt(() => rmdirSync(dir));
  return observe(created.ok || written.ok ? "allowed" : "denied", [
    `mkdir ${dir}: ${created.ok ? "created" : created.reason}`,
    `write ${file}: ${written.ok ? "written" : written.reason}`,
  ]);
}

export const writeRoot = () => tryWrite("/");
export const writeEtc = () => tryWrite("/etc");
export const writeUsr = () => tryWrite("/usr");
export const writeRuntime = () => tryWrite("/runtime/app");
export const writeDev = () => tryWrite("/dev");

/** Any of these succeeding means the paths are visible; existsSync true counts too. */
function tryRead(paths: {
  readonly dirs: readonly string[];
  readonly files: readonly string[];
}): Observation {
  const details: string[] = [];
  let seen = false;
  for (const path of [...paths.dirs, ...paths.files]) {
    const exists = attempt(() => existsSync(path));
    if (exists.ok && exists.value === true) seen = true;
    details.push(`exists ${path}: ${exists.ok ? String(exists.value) : exists.reason}`);
  }
  for (const dir of paths.dirs) {
    const listed = attempt(() => readdirSync(dir));
    if (listed.ok) seen = true;
    details.push(`readdir ${dir}: ${listed.ok ? "listed" : listed.reason}`);
  }
  for (const file of paths.files) {
    const read = attempt(() => readFileSync(file));
    const stat = attempt(() => statSync(file));
    if (read.ok || stat.ok) seen = true;
    details.push(
      `read ${file}: ${read.ok ? "read" : read.reason}`,
      `stat ${file}: ${stat.ok ? "ok" : stat.reason}`,
    );
  }
  return observe(seen ? "allowed" : "denied", details);
}

export const hostState = (config: ProbeConfig) =>
  tryRead({ dirs: [config.hostStateDir], files: [config.hostTokenFile] });

export const otherWorkspace = (config: ProbeConfig) =>
  tryRead({ dirs: [config.otherWorkspaceDir], files: [join(config.otherWorkspaceDir, "secret.txt")] });

/** An MCP server's /workspace is its own: the file the harness put in the agent's is not there. */
export function mcpAgentWorkspace(): Observation {
  const file = `/workspace/${AGENT_WORKSPACE_MARKER}`;
  const seen = attempt(() => existsSync(file));
  if (!seen.ok) return observe("inconclusive", [`exists ${file}: ${seen.reason}`]);
  return observe(seen.value ? "allowed" : "denied", [`exists ${file}: ${String(seen.value)}`]);
}

/** Control: the agent's own workspace takes a write and gives it back. */
export function controlWorkspace(config: ProbeConfig): Observation {
  const file = `/workspace/probe-${config.run}.txt`;
  const content = `written by the ${config.run} probe`;
  const written = attempt(() => writeFileSync(file, content));
  const read = attempt(() => readFileSync(file, "utf8"));
  const same = read.ok && read.value === content;
  return observe(written.ok && same ? "allowed" : "denied", [
    `write ${file}: ${written.ok ? "written" : written.reason}`,
    `read back: ${read.ok ? (same ? "same" : "different") : read.reason}`,
  ]);
}
