import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import type { PackOptions, SignOptions, VerifyOptions } from "./skills-action.js";

/** `ironclaw skills pack|sign|verify`: a skill is packed reproducibly, keyless-signed, and verified offline. */
export function registerSkillsCommands(program: Command, context: CommandContext): void {
  const skills = program
    .command("skills")
    .description("pack, sign and verify skills: SKILL.md instructions and resources, as a signed archive");
  skills
    .command("pack")
    .description("pack a skill directory into its reproducible .tar.gz (same files, same bytes)")
    .argument("<dir>", "the skill's directory, with SKILL.md at its root")
    .requiredOption("-o, --output <file>", "where to write the archive, e.g. pdf-summary-1.2.0.tar.gz")
    .option("--json", "print a JSON report")
    .action(async (dir: string, options: PackOptions) =>
      (await import("./skills-action.js")).packAction(dir, options, context),
    );
  skills
    .command("sign")
    .description("keyless-sign a skill archive with Sigstore: writes <archive>.sigstore.json")
    .argument("<archive>", "the archive `skills pack` wrote")
    .option("--bundle <file>", "where to write the Sigstore bundle (default: <archive>.sigstore.json)")
    .option(
      "--identity-token <file>",
      "a file holding the OIDC identity token to sign with (default: $SIGSTORE_ID_TOKEN, as cosign reads it)",
    )
    .option("--fulcio-url <url>", "Fulcio", "https://fulcio.sigstore.dev")
    .option("--rekor-url <url>", "Rekor", "https://rekor.sigstore.dev")
    .option("--tsa-url <url>", "an RFC 3161 timestamp authority to add a timestamp from (default: none)")
    .option("--json", "print a JSON report")
    .action(async (archive: string, options: SignOptions) =>
      (await import("./skills-action.js")).signAction(archive, options, context),
    );
  skills
    .command("verify")
    .description("verify a skill archive offline: signature, signer, and SKILL.md")
    .argument("<archive>", "the skill archive")
    .option("--bundle <file>", "its Sigstore bundle (default: <archive>.sigstore.json)")
    .option("--certificate-identity <identity>", "expected signer (certificate SAN), matched exactly")
    .option("--certificate-oidc-issuer <url>", "expected OIDC issuer, matched exactly")
    .option("--repo <owner/name>", "or: signed by a GitHub Actions workflow of this repository (gh's --repo)")
    .option(
      "--signer-workflow <workflow>",
      "with --repo: the workflow, OWNER/REPO/.github/workflows/FILE.yml or .github/workflows/FILE.yml",
    )
    .option("--name <name>", "the skill name SKILL.md must give")
    .option("--version <version>", "the version SKILL.md must give")
    .option("--digest <sha256:hex>", "the digest the archive must have")
    .option(
      "--trusted-root <file>",
      "trusted_root.json of another Sigstore instance (default: $IRONCLAW_TRUSTED_ROOT, else the embedded public-good root)",
    )
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Exit codes: 0 verified; 1 the signature, signer, digest or SKILL.md said no; 2 bad flags; 3 unreadable files.

Examples:
  ironclaw skills verify pdf-summary-1.2.0.tar.gz --repo acme/skills \\
    --signer-workflow .github/workflows/publish.yml
  ironclaw skills verify pdf-summary-1.2.0.tar.gz --certificate-identity you@example.com \\
    --certificate-oidc-issuer https://github.com/login/oauth`,
    )
    .action(async (archive: string, options: VerifyOptions) =>
      (await import("./skills-action.js")).verifyAction(archive, options, context),
    );
}
