import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import type { InspectOptions } from "./mcp-action.js";

/** `ironclaw mcp inspect`: what an MCP server offers, each tool with the digest a change pins. */
export function registerMcpCommands(program: Command, context: CommandContext): void {
  const mcp = program.command("mcp").description("look at MCP servers before approving them");
  mcp
    .command("inspect")
    .description(
      "list the tools a Streamable HTTP MCP server offers, each with the digest an mcp_servers change pins it by",
    )
    .requiredOption("--url <url>", "the server's https URL (plain http only on loopback)")
    .option("--ip-literal", "the URL's host is an IP address, and that is meant")
    .option(
      "--ca <file>",
      "a PEM file of extra CAs to trust for this server (default: the system's roots only)",
    )
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
It dials the server as the host's MCP broker would (egress rules: a named host resolving only to public
addresses, unless --ip-literal), lists its tools and closes. Nothing is approved: paste the tools you
want into an mcp_servers change.

Exit codes: 0 listed; 1 the server was refused or answered nothing usable; 2 bad flags; 3 unreachable.`,
    )
    .action(async (options: InspectOptions) =>
      (await import("./mcp-action.js")).inspectAction(options, context),
    );
}
