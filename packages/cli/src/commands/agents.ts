import type { Command } from "commander";
import type { AgentsFlags } from "./agents-action.js";
import type { CommandContext } from "./context.js";

export function registerAgentsCommands(program: Command, context: CommandContext): void {
  const agents = program.command("agents").description("talk to the agents the control plane runs");
  const connection = (command: Command) =>
    command
      .option("--state <dir>", "the control plane's state directory (default: ~/.ironclaw)")
      .option(
        "--url <url>",
        "the control plane's URL (default: $IRONCLAW_URL, else what `ironclaw up` wrote)",
      )
      .option(
        "--token-file <file>",
        "bearer token file (default: $IRONCLAW_TOKEN, else <state>/tokens/operator.token)",
      )
      .option("--json", "print JSON");
  connection(
    agents
      .command("send <agent> <text>")
      .description('send an agent a message; the scripted agent takes {"tool": …, "input": {…}}')
      .addHelpText(
        "after",
        `
Example:
  ironclaw agents send demo '{"tool":"http_fetch","input":{"url":"https://api.example.com/status"}}'

A message is an instruction, never a capability: what the agent may do changes only through
approved changes.`,
      ),
  ).action(async (agent: string, text: string, flags: AgentsFlags) =>
    (await import("./agents-action.js")).sendAction(agent, text, flags, context),
  );
  connection(
    agents
      .command("messages <agent>")
      .description("what the agent said (or, with --inbound, what it was sent)")
      .option("--inbound", "the messages sent to the agent")
      .option("--after <seq>", "only messages after this log record", "0"),
  ).action(async (agent: string, flags: AgentsFlags) =>
    (await import("./agents-action.js")).messagesAction(agent, flags, context),
  );
}
