import { Command } from "commander";
import { acceptJsonEverywhere, commandSynopses } from "./command-tree.js";
import { registerAgentsCommands } from "./commands/agents.js";
import { registerAttestationCommands } from "./commands/attestation.js";
import { registerAuditCommands } from "./commands/audit.js";
import { registerChangesCommands } from "./commands/changes.js";
import { registerChecksumsCommands } from "./commands/checksums.js";
import type { CommandContext } from "./commands/context.js";
import { registerMcpCommands } from "./commands/mcp.js";
import { registerReleaseVerifyCommands } from "./commands/release-verify.js";
import { registerSandboxCommands } from "./commands/sandbox.js";
import { registerSkillsCommands } from "./commands/skills.js";
import { registerUpCommand } from "./commands/up.js";
import { registerUpgradeCommand } from "./commands/upgrade.js";
import { registerVerifyBundleCommand } from "./commands/verify-bundle.js";
import { buildInfo } from "./version.js";

/** The `ironclaw` command tree. Commander's own exits are turned into exceptions for main to map. */
export function buildProgram(
  context: CommandContext,
  output: { readonly usageError?: (message: string) => void } = {},
): Command {
  const { io } = context;
  const program = new Command("ironclaw")
    .description("IronClaw: verify releases and run agents you do not have to trust")
    .version(buildInfo().version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    // Root options only before a command, so `upgrade --version vX.Y.Z` reaches upgrade.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      // Under --json, main answers a usage error (or a missing command's help) with a JSON document instead.
      writeErr: (text) => (output.usageError === undefined ? io.stderr.write(text) : output.usageError(text)),
    })
    .addHelpText(
      "after",
      `
Exit codes (every command): 0 success; 1 a verification or policy said no;
2 usage error or malformed input; 3 environment failure (I/O, network, missing tool).`,
    );
  registerReleaseVerifyCommands(program, context);
  registerChecksumsCommands(program, context);
  registerVerifyBundleCommand(program, context);
  registerAttestationCommands(program, context);
  registerUpgradeCommand(program, context);
  registerUpCommand(program, context);
  registerChangesCommands(program, context);
  registerAuditCommands(program, context);
  registerAgentsCommands(program, context);
  registerSandboxCommands(program, context);
  registerSkillsCommands(program, context);
  registerMcpCommands(program, context);
  acceptJsonEverywhere(program);
  program.addHelpText(
    "after",
    () => `\nEvery command (ironclaw COMMAND --help for its options):\n${commandSynopses(program)}\n`,
  );
  return program;
}
