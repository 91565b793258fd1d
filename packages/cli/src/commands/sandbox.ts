import type { Command } from "commander";
import type { CommandContext } from "./context.js";

export function registerSandboxCommands(program: Command, context: CommandContext): void {
  const sandbox = program.command("sandbox").description("the sandboxes agents run in");
  sandbox
    .command("selftest")
    .description("run probes inside real sandboxes and report whether every containment invariant holds")
    .option("--out <file>", "also write the JSON report here")
    .option("--json", "print the JSON report")
    .addHelpText(
      "after",
      `
Each probe tries something a compromised agent would: open a connection, resolve a name, write to
/ or /usr, read the host's tokens or another agent's workspace, run /bin/sh, spawn a process, eval,
load a native addon, start a worker, ptrace, mount, use the egress socket before approval, fetch a
host nobody approved. The verdict is "contained" only if every invariant held; exit 1 otherwise.`,
    )
    .action(async (flags: { out?: string; json?: boolean }) =>
      (await import("./sandbox-action.js")).selftestAction(flags, context),
    );
}
