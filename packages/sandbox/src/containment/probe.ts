/**
 * The containment probe: runs inside a sandbox, attempts what its run's invariants forbid (and what
 * the controls allow), and prints one JSON line per attempt. It judges nothing: the host does.
 * Bundled into one file by bundleRuntime; its only argument is the ProbeConfig as JSON.
 */
import { INVARIANTS, type ProbeConfig, type ProbeLine } from "./invariants.js";
import { execOtherBinary, execShell, spawnChild } from "./probe-exec.js";
import {
  controlWorkspace,
  hostState,
  mcpAgentWorkspace,
  otherWorkspace,
  writeDev,
  writeEtc,
  writeRoot,
  writeRuntime,
  writeUsr,
} from "./probe-fs.js";
import {
  controlModelSocket,
  modelBeforeApproval,
  modelBudget,
  modelKey,
  modelUnapproved,
} from "./probe-model.js";
import { controlMount, mountOnlyApproved, mountReadOnly } from "./probe-mounts.js";
import {
  controlLoopback,
  controlPlane,
  netDns,
  netHostLoopback,
  netInterfaces,
  netPublic,
} from "./probe-net.js";
import { hostPids, limits, mount, ptrace, seccomp } from "./probe-proc.js";
import { codeFromStrings, nativeAddon, worker } from "./probe-runtime.js";
import {
  controlAgentSocket,
  egressAllowlist,
  egressBeforeApproval,
  mcpAgentSocket,
} from "./probe-sockets.js";
import { type Check, why } from "./probe-util.js";

const CHECKS: Readonly<Record<string, Check>> = {
  "net-host-loopback": netHostLoopback,
  "net-public": netPublic,
  "net-interfaces": netInterfaces,
  "net-dns": netDns,
  "control-plane": controlPlane,
  "write-root": writeRoot,
  "write-etc": writeEtc,
  "write-usr": writeUsr,
  "write-runtime": writeRuntime,
  "write-dev": writeDev,
  "host-state": hostState,
  "other-workspace": otherWorkspace,
  "exec-shell": execShell,
  "exec-other-binary": execOtherBinary,
  "spawn-child": spawnChild,
  "code-from-strings": codeFromStrings,
  "native-addon": nativeAddon,
  worker,
  "host-pids": hostPids,
  ptrace,
  mount,
  seccomp,
  "egress-before-approval": egressBeforeApproval,
  "egress-allowlist": egressAllowlist,
  "model-before-approval": modelBeforeApproval,
  "model-key": modelKey,
  "model-unapproved": modelUnapproved,
  "control-model-socket": controlModelSocket,
  "model-budget": modelBudget,
  "mount-read-only": mountReadOnly,
  "mount-only-approved": mountOnlyApproved,
  "control-mount": controlMount,
  "mcp-agent-socket": mcpAgentSocket,
  "mcp-agent-workspace": mcpAgentWorkspace,
  "control-workspace-marker": mcpAgentWorkspace,
  "control-agent-socket": controlAgentSocket,
  "control-workspace": controlWorkspace,
  "control-loopback": controlLoopback,
};

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "") as ProbeConfig;
  for (const invariant of INVARIANTS) {
    if (!invariant.runs.includes(config.run)) continue;
    const check = CHECKS[invariant.id];
    let line: ProbeLine;
    try {
      if (check === undefined) throw new Error("the probe has no check for it");
      line = { invariant: invariant.id, ...(await check(config)) };
    } catch (error) {
      line = {
        invariant: invariant.id,
        observed: "inconclusive",
        detail: `the attempt failed: ${why(error)}`,
      };
    }
    print(line);
  }
  if (config.run === "namespaces") print({ observation: "limits", values: limits() ?? null });
  print({ done: config.run });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`probe: ${why(error)}\n`);
    process.exit(70);
  },
);
