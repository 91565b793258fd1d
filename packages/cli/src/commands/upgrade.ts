import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import type { UpgradeFlags } from "./upgrade-action.js";

export function registerUpgradeCommand(program: Command, context: CommandContext): void {
  program
    .command("upgrade")
    .description("replace this ironclaw with a newer release, after verifying it completely")
    .option("--version <vX.Y.Z>", "install this release instead of the latest")
    .option("--base-url <url>", "release server with GitHub's layout (default: the official GitHub releases)")
    .option("--repo <owner/repo>", "the repository releases must come from (default: the official one)")
    .option("--check", "only say whether a newer verified release exists")
    .option("--allow-downgrade", "install a release that is not newer than the running one")
    .option("--rollback", "put back the ironclaw the last upgrade replaced")
    .option(
      "--trusted-root <file>",
      "trusted_root.json of another Sigstore instance (default: $IRONCLAW_TRUSTED_ROOT, else the embedded public-good root)",
    )
    .option(
      "--timeout <seconds>",
      "give up when connecting takes this long or no byte arrives for this long (never a cap on a whole download)",
      "30",
    )
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Downloads the release for this platform, SHA256SUMS, its signature and the attestations into a
private temporary directory, verifies all of it as ironclaw verify does, and only then writes the
new ironclaw beside the old one and swaps them with one atomic rename. The old one is kept as
<path>.previous for --rollback. Nothing downloaded runs before it is verified.

Redirects: at most 5 per download; from an https base only to https (any host: GitHub serves
assets from its object storage), from a loopback http base only to loopback. Caps while reading:
latest 64 KiB, SHA256SUMS and bundles 16 MiB, the archive 512 MiB. One upgrade or rollback at a
time per installed file (a lock beside it); a release older than the installed file is refused
without --allow-downgrade; Ctrl-C leaves no temporary files.

Examples:
  ironclaw upgrade --check
  ironclaw upgrade
  ironclaw upgrade --version v1.2.3 --allow-downgrade
  ironclaw upgrade --rollback`,
    )
    .action(async (flags: UpgradeFlags) =>
      (await import("./upgrade-action.js")).upgradeAction(flags, context),
    );
}
