import type { Command } from "commander";
import type { AuditFlags } from "./audit-action.js";
import type { CommandContext } from "./context.js";

export function registerAuditCommands(program: Command, context: CommandContext): void {
  const audit = program
    .command("audit")
    .description("read the control plane's audit log (every change, decision and security event)")
    .option("--state <dir>", "the state directory (default: ~/.ironclaw)")
    .option("--url <url>", "the control plane's URL (default: $IRONCLAW_URL, else what `ironclaw up` wrote)")
    .option(
      "--token-file <file>",
      "bearer token file (default: $IRONCLAW_TOKEN, else <state>/tokens/operator.token)",
    )
    .option("--after <seq>", "start after this record", "0")
    .option("--follow", "keep printing records as they are written")
    .option("--json", "print JSON Lines, one record per line")
    .action(async (flags: AuditFlags) => (await import("./audit-action.js")).auditAction(flags, context));
  audit
    .command("verify")
    .description("check the whole hash chain and every checkpoint, offline; names the first bad record")
    .option("--state <dir>", "the state directory (default: ~/.ironclaw)")
    .option(
      "--checkpoint <file...>",
      "a checkpoint you kept (from `ironclaw audit head --json`): exposes a history rewritten since",
    )
    .option("--public-key <file>", "the host's public key (default: <state>/host-key.pub.pem)")
    .option(
      "--witness <dir>",
      "a witness directory of `ironclaw up --witness`: its checkpoints count as kept",
    )
    .option("--json", "print a JSON report")
    .action(async (flags, command: Command) =>
      (await import("./audit-action.js")).auditVerifyAction(
        { ...command.optsWithGlobals(), ...flags },
        context,
      ),
    );
  audit
    .command("head")
    .description("a checkpoint of the log's head signed by the host key: keep it to detect a rewrite later")
    .option("--state <dir>", "the state directory (default: ~/.ironclaw)")
    .option("--url <url>", "the control plane's URL")
    .option("--token-file <file>", "bearer token file")
    .option("--json", "print JSON (the form `audit verify --checkpoint` reads)")
    .action(async (flags, command: Command) =>
      (await import("./audit-action.js")).auditHeadAction(
        { ...command.optsWithGlobals(), ...flags },
        context,
      ),
    );
}
