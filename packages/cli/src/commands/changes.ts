import type { Command } from "commander";
import type { ChangesFlags } from "./changes-action.js";
import type { CommandContext } from "./context.js";

const KINDS =
  "persona, enabled_tools, packages, wiring, permissions, mounts, create_agent, egress, mcp_servers, skills, model";

function connectionOptions(command: Command): Command {
  return command
    .option(
      "--state <dir>",
      "the control plane's state directory, for its address and token (default: ~/.ironclaw)",
    )
    .option("--url <url>", "the control plane's URL (default: $IRONCLAW_URL, else what `ironclaw up` wrote)")
    .option(
      "--token-file <file>",
      "bearer token file (default: $IRONCLAW_TOKEN, else <state>/tokens/operator.token)",
    )
    .option("--json", "print JSON");
}

export function registerChangesCommands(program: Command, context: CommandContext): void {
  const changes = program
    .command("changes")
    .description("the approval gateway: every mutation waits here for a human operator");
  const run =
    (action: "submit" | "list" | "show" | "approve" | "reject" | "cancel" | "retry") =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      const flags = command.opts<ChangesFlags>();
      const positional = args.slice(0, -2) as string[];
      return (await import("./changes-action.js")).changesAction(action, positional, flags, context);
    };

  connectionOptions(
    changes
      .command("submit <kind>")
      .description(`ask for a change (kinds: ${KINDS}); it is HELD until an operator approves it`)
      .option("--payload <json>", "the change's payload as JSON")
      .option("--payload-file <file>", "read the payload from a file (- for standard input)")
      .addHelpText(
        "after",
        `
Examples:
  ironclaw changes submit create_agent --payload '{"agent":"demo"}'
  ironclaw changes submit model --payload '{"agent":"demo","action":"set","provider":"mock","model":"mock-1","maxOutputTokens":1024,"dailyTokens":100000}'
  ironclaw changes submit model --payload '{"agent":"demo","action":"revoke"}'

A model change names a provider configured on the host (the offline "mock" provider always exists)
and a model it allows; the agent never names one itself.`,
      ),
  ).action(run("submit"));
  connectionOptions(
    changes
      .command("list")
      .description("list changes")
      .option("--status <state>", "only changes in this state (pending or held, approved, applied, …)"),
  ).action(run("list"));
  connectionOptions(
    changes.command("show <id>").description("show a change, its payload and its digest"),
  ).action(run("show"));
  connectionOptions(
    changes
      .command("approve <id>")
      .description("approve a pending change, bound to the digest you were shown")
      .requiredOption(
        "--digest <sha256:hex>",
        "the digest `changes show` printed: approval binds to what you saw",
      ),
  ).action(run("approve"));
  connectionOptions(
    changes
      .command("reject <id>")
      .description("reject a pending change")
      .requiredOption("--reason <text>", "why, for the audit log"),
  ).action(run("reject"));
  connectionOptions(changes.command("cancel <id>").description("withdraw a pending change")).action(
    run("cancel"),
  );
  connectionOptions(
    changes.command("retry <id>").description("apply again a change whose application failed"),
  ).action(run("retry"));
}
