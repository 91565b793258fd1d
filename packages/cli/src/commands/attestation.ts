import type { Command } from "commander";
import type { AttestationVerifyFlags, InspectFlags } from "./attestation-action.js";
import type { CommandContext } from "./context.js";

const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
const SLSA_V1 = "https://slsa.dev/provenance/v1";

export function registerAttestationCommands(program: Command, context: CommandContext): void {
  const attestation = program
    .command("attestation")
    .description(
      "verify or inspect build-provenance attestations (gh attestation verify semantics, offline)",
    );

  attestation
    .command("verify")
    .description("verify the attestations of an artifact and report every statement")
    .argument("<artifact>", "the file, or sha256:<hex> / sha512:<hex> of it")
    .requiredOption(
      "--bundle <file>",
      "a Sigstore bundle, or JSON Lines of them (gh attestation download, *.intoto.jsonl)",
    )
    .option("--owner <owner>", "the GitHub owner the source repository must belong to (e.g. acme)")
    .option("--repo <owner/repo>", "the exact source repository (e.g. acme/tool); implies --owner")
    .option(
      "--signer-repo <owner/repo>",
      "accept a signing workflow from this repository (reusable workflows)",
    )
    .option(
      "--signer-workflow <[host/]owner/repo/path>",
      "accept only this workflow as signer (e.g. acme/ci/.github/workflows/build.yml), any ref",
    )
    .option("--signer-digest <sha>", "the exact commit of the signing workflow")
    .option("--cert-identity <uri>", "the exact certificate identity (SAN) of the signer")
    .option(
      "--cert-identity-regex <regexp>",
      "the signer's identity as a regular expression, anchored as ^(?:…)$",
    )
    .option("--cert-oidc-issuer <url>", "the OIDC issuer of the signing certificate", GITHUB_ISSUER)
    .option("--deny-self-hosted-runners", "refuse attestations signed on self-hosted runners")
    .option("--source-ref <ref>", "the exact source ref (e.g. refs/tags/v1.2.3)")
    .option("--source-digest <sha>", "the exact source commit")
    .option("--predicate-type <uri>", "the predicate type statements must have", SLSA_V1)
    .option(
      "--trusted-root <file>",
      "trusted_root.json of another Sigstore instance (default: $IRONCLAW_TRUSTED_ROOT, else the embedded public-good root)",
    )
    .option("--custom-trusted-root <file>", "gh's name for --trusted-root")
    .option(
      "--digest-alg <alg>",
      "match subjects in this algorithm only: sha256 or sha512 (default: each subject in the ones it carries)",
    )
    .option("--all", "require every statement about the artifact to verify, not just one")
    .option("--format <format>", "output format: json")
    .option("--json", "print a JSON report (same as --format json)")
    .addHelpText(
      "after",
      `
Every statement found is reported, one line each: verified, failed (and why), or about another
artifact. The answer is yes when at least one statement about the artifact verifies and satisfies
the policy (--all: every one). Policy decisions use the certificate, which Fulcio attested; where a
GitHub provenance predicate disagrees with it, the statement fails.

Exit codes: 0 verified; 1 no statement (or, with --all, not every statement) verified;
2 bad flags or unreadable attestations; 3 a file could not be read.

Examples:
  ironclaw attestation verify ironclaw_1.2.3_linux_amd64.tar.gz \\
    --bundle ironclaw_1.2.3.intoto.jsonl --repo acme/tool --source-ref refs/tags/v1.2.3
  ironclaw attestation verify tool.tgz --bundle tool.jsonl --owner acme \\
    --signer-workflow acme/ci/.github/workflows/release.yml --deny-self-hosted-runners
  ironclaw attestation verify sha256:9f86d08… --bundle b.jsonl --repo acme/tool --format json`,
    )
    .action(async (artifact: string, flags: AttestationVerifyFlags) =>
      (await import("./attestation-action.js")).verifyAttestationAction(artifact, flags, context),
    );

  attestation
    .command("inspect")
    .description("show what a bundle or JSON Lines file holds, without verifying anything")
    .argument("<file>", "a Sigstore bundle, or JSON Lines of them")
    .option("--json", "print a JSON document")
    .addHelpText("after", "\nExample:\n  ironclaw attestation inspect ironclaw_1.2.3.intoto.jsonl")
    .action(async (file: string, flags: InspectFlags) =>
      (await import("./attestation-action.js")).inspectAttestationAction(file, flags, context),
    );
}
