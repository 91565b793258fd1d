import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import type { UpFlags } from "./up-action.js";

export function registerUpCommand(program: Command, context: CommandContext): void {
  program
    .command("up")
    .description("run the control plane: the approval gateway, its audit log and its API")
    .option("--dev", "listen on loopback (127.0.0.1:7878) instead of the Tailscale address")
    .option("--state <dir>", "where the event log, host key and tokens live (default: ~/.ironclaw)")
    .option(
      "--listen <addr:port>",
      "a Tailscale address of this host (100.64.0.0/10, fd7a:115c:a1e0::/48), or loopback with --dev",
    )
    .option(
      "--console <addr:port>",
      "also serve the approvals console in a browser there, on the same addresses as --listen (e.g. 127.0.0.1:7879 with --dev)",
    )
    .option(
      "--console-origin <https-origin>",
      "the https origin a TLS proxy on this host serves the console under (e.g. tailscale serve); the session cookie is then Secure",
    )
    .option(
      "--ttl <duration>",
      "how long a change waits for a decision before it expires (e.g. 30m, 24h, 7d)",
      "24h",
    )
    .option(
      "--mounts-root <dir>",
      "the only directory mounts may come from (default: none, so no mount can be approved)",
    )
    .option(
      "--package-registry <url>",
      "the npm registry packages for MCP servers come from (HTTPS, or HTTP on loopback); their provenance is checked under $IRONCLAW_TRUSTED_ROOT, else the public-good root",
      "https://registry.npmjs.org/",
    )
    .option(
      "--model-providers <file>",
      "the model providers agents may be given (default: <state>/model-providers.json if present; the offline mock provider always exists); API keys come from the host's environment or 0600 files it names, never from a change",
    )
    .option(
      "--skills-root <dir>",
      "the only directory skill archives (<name>-<version>.tar.gz and .tar.gz.sigstore.json) are read from (default: none, so no skill can be approved); signatures verify against $IRONCLAW_TRUSTED_ROOT or the embedded public-good root",
    )
    .option(
      "--witness <dir>",
      "also append every checkpoint to <dir>/checkpoints.jsonl, a file another user owns that this user can only append to",
    )
    .option("--pending-cap <n>", "most changes one principal may have pending (default 16)")
    .option("--pending-total-cap <n>", "most changes pending from all principals together (default 256)")
    .option("--no-agents", "do not run the registry's agents in sandboxes")
    .option("--json", "print where it listens as JSON")
    .addHelpText(
      "after",
      `
The API never listens on 0.0.0.0, ::, a LAN or a public address: only on this host's Tailscale
address, or with --dev on loopback. Tokens are created at first start in <state>/tokens (0600).
A second \`ironclaw up\` on the same state directory refuses to start. Each agent of the registry
runs sealed in bubblewrap with its own workspace and agent-API socket, and an egress broker only
once an approved change grants it a host.

Example:
  ironclaw up --dev`,
    )
    .action(async (flags: UpFlags) => (await import("./up-action.js")).upAction(flags, context));
}
