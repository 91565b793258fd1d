import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import { startReleaseHashing } from "./release-hashing.js";
import type { ReleaseVerifyFlags } from "./release-verify-action.js";

export function registerReleaseVerifyCommands(program: Command, context: CommandContext): void {
  const policyOptions = (command: Command) =>
    command
      .option(
        "--dir <dir>",
        "the release directory with SHA256SUMS, its bundle and the .intoto.jsonl (default: beside the artifacts, or .)",
      )
      .option("--repo <owner/repo>", "the repository the release must come from (default: the official one)")
      .option("--tag <vX.Y.Z>", "the release the files must belong to (default: the one the signature names)")
      .option(
        "--signer-workflow <owner/repo/path>",
        "the workflow that must have signed (default: the repository's .github/workflows/release.yml)",
      )
      .option(
        "--trusted-root <file>",
        "trusted_root.json of another Sigstore instance (default: $IRONCLAW_TRUSTED_ROOT, else the embedded public-good root)",
      )
      .option("--json", "print a JSON report");

  policyOptions(
    program
      .command("verify")
      .description(
        "verify release files: the signature over SHA256SUMS, each file's checksum, and its build provenance",
      )
      .argument("[artifacts...]", "release files to verify (default: every file SHA256SUMS lists)")
      .option("--checksums-only", "check only SHA256SUMS, and say what that leaves unchecked"),
  )
    .addHelpText(
      "after",
      `
All three checks must pass for every file and agree on one repository, workflow, tag and commit.

Exit codes: 0 verified; 1 a check failed; 2 unusable input; 3 a file could not be read.

Examples:
  ironclaw verify ironclaw_1.2.3_linux_amd64.tar.gz
  ironclaw verify --dir ./downloads --tag v1.2.3
  ironclaw verify --dir ./fork-release --repo acme/ironclaw-fork --trusted-root trusted_root.json --json`,
    )
    .action(async (artifacts: string[], flags: ReleaseVerifyFlags) => {
      const request = flags.dir === undefined ? { paths: artifacts } : { paths: artifacts, dir: flags.dir };
      const hashing =
        (await context.prefetch?.take(request)) ?? startReleaseHashing(context.io.cwd, artifacts, flags.dir);
      await (await import("./release-verify-action.js")).verifyReleaseAction(
        artifacts,
        flags,
        context,
        hashing,
      );
    });

  policyOptions(
    program
      .command("verify-binary")
      .description(
        "verify an executable already extracted from a release archive against the release's provenance",
      )
      .argument("<executable>", "the extracted ironclaw (or ironclaw.exe)"),
  )
    .addHelpText("after", "\nExample:\n  ironclaw verify-binary ./ironclaw --dir ./downloads")
    .action(async (executable: string, flags: ReleaseVerifyFlags) =>
      (await import("./release-verify-action.js")).verifyBinaryAction(executable, flags, context),
    );
}
