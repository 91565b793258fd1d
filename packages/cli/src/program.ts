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

type Register = (program: Command, context: CommandContext) => void;

/**
 * Each group of commands with the top-level names it registers (a test holds the two together). A
 * command line whose first word names a group needs no other: building every command's options costs
 * Commander more than a short command takes to run.
 */
export const COMMAND_GROUPS: ReadonlyArray<readonly [readonly string[], Register]> = [
  [["verify", "verify-binary"], registerReleaseVerifyCommands],
  [["checksums"], registerChecksumsCommands],
  [["verify-bundle"], registerVerifyBundleCommand],
  [["attestation"], registerAttestationCommands],
  [["upgrade"], registerUpgradeCommand],
  [["up"], registerUpCommand],
  [["changes"], registerChangesCommands],
  [["audit"], registerAuditCommands],
  [["agents"], registerAgentsCommands],
  [["sandbox"], registerSandboxCommands],
  [["skills"], registerSkillsCommands],
  [["mcp"], registerMcpCommands],
];

/**
 * The `ironclaw` command tree. Commander's own exits are turned into exceptions for main to map. With
 * `argv`, a command line that starts with a command's name gets only that command's group; anything
 * else (root options, help, a word that names no command) gets every command.
 */
export function buildProgram(
  context: CommandContext,
  output: { readonly usageError?: (message: string) => void } = {},
  argv?: readonly string[],
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
  const first = argv?.[0];
  const named = COMMAND_GROUPS.find(([names]) => first !== undefined && names.includes(first));
  for (const group of named === undefined ? COMMAND_GROUPS : [named]) group[1](program, context);
  acceptJsonEverywhere(program);
  program.addHelpText(
    "after",
    () => `\nEvery command (ironclaw COMMAND --help for its options):\n${commandSynopses(program)}\n`,
  );
  return program;
}
