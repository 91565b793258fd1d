import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import type { VerifyBundleOptions } from "./verify-bundle-action.js";

export function registerVerifyBundleCommand(program: Command, context: CommandContext): void {
  program
    .command("verify-bundle")
    .description(
      "verify a Sigstore bundle over a file or sha256:<hex>, offline (sigstore-conformance protocol)",
    )
    .argument("<artifact>", "the signed file, or sha256:<64 hex> of it")
    .requiredOption("--bundle <file>", "Sigstore bundle (v0.1–v0.3) or cosign's legacy --bundle JSON")
    .option("--certificate-identity <identity>", "expected signer (certificate SAN), matched exactly")
    .option(
      "--certificate-identity-regexp <regexp>",
      "expected signer as a regular expression, anchored as ^(?:…)$",
    )
    .option("--certificate-oidc-issuer <url>", "expected OIDC issuer, matched exactly")
    .option(
      "--certificate-oidc-issuer-regexp <regexp>",
      "expected OIDC issuer as a regular expression, anchored",
    )
    .option(
      "--key <file>",
      "verify a key-signed bundle with this PEM public key instead of a certificate identity",
    )
    .option(
      "--trusted-root <file>",
      "trusted_root.json of another Sigstore instance (default: $IRONCLAW_TRUSTED_ROOT, else the embedded public-good root)",
    )
    .option("--signature <file>", "refused: detached signatures cannot be verified offline; use --bundle")
    .option("--certificate <file>", "refused: detached certificates cannot be verified offline; use --bundle")
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Exit codes: 0 verified; 1 the signature, log entry, certificate or signer said no;
2 unusable input (malformed bundle or trusted root, bad flags); 3 a file could not be read.

Examples:
  ironclaw verify-bundle --bundle SHA256SUMS.sigstore.json \\
    --certificate-identity https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3 \\
    --certificate-oidc-issuer https://token.actions.githubusercontent.com SHA256SUMS
  ironclaw verify-bundle --bundle b.json --key cosign.pub sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`,
    )
    // sigstore-js loads only when this command runs, so other commands start fast.
    .action(async (artifact: string, options: VerifyBundleOptions) =>
      (await import("./verify-bundle-action.js")).verifyBundleAction(artifact, options, context),
    );
}
