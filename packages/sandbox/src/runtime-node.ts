import { realpathSync } from "node:fs";
import { SandboxError } from "./errors.js";

/** Whether this process is a single-executable application (the standalone ironclaw). */
export function runningAsExecutable(): boolean {
  try {
    // node:sea exists from Node 20.12; getBuiltinModule from 20.16 (the release embeds 20.20).
    const sea = process.getBuiltinModule?.("node:sea") as { isSea(): boolean } | undefined;
    return sea?.isSea() ?? false;
  } catch {
    return false;
  }
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

/**
 * A sandbox runs `node [flags] script args`. A single-executable application parses none of node's
 * flags: every argument, the permission model's included, goes to ironclaw's own command line (which
 * refuses them). So the standalone executable cannot be the node inside a sandbox; it says so with
 * a code instead of a confusing failure inside one. The node bundle, run by a real node, can.
 */
export function checkSandboxNode(nodePath: string, standalone = runningAsExecutable()): void {
  if (standalone && samePath(nodePath, process.execPath))
    throw new SandboxError(
      "IC_SANDBOX_NEEDS_NODE",
      `expected a Node.js binary to run inside the sandbox, found the standalone ironclaw executable (${process.execPath}), ` +
        "which cannot be one: it takes node's flags as its own arguments. Agents, stdio MCP servers and " +
        "`sandbox selftest` need the node bundle: install Node.js 20.17 or later, download the release's " +
        "ironclaw_<version>_node.tar.gz, check it against SHA256SUMS, extract it and run 'node ironclaw.cjs'",
    );
}
