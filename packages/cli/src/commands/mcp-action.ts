import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { startMcpBroker } from "@ironclaw/mcp-broker";
import { CliError } from "../errors.js";
import { type CommandContext, type JsonOption, writeJson } from "./context.js";

export const MCP_INSPECT_SCHEMA = "https://ironclaw.dev/schemas/mcp-inspect/v1";

export interface InspectOptions extends JsonOption {
  readonly url: string;
  readonly ipLiteral?: boolean;
  readonly ca?: string;
}

/** Codes of a server that could not be reached, as opposed to one that answered badly. */
const UNREACHABLE = new Set(["IC_MCP_SERVER_UNAVAILABLE", "IC_MCP_TIMEOUT"]);

export async function inspectAction(options: InspectOptions, context: CommandContext): Promise<void> {
  const { io } = context;
  const ca = options.ca === undefined ? undefined : [await readFile(resolve(io.cwd, options.ca), "utf8")];
  // A broker with nothing approved: it can only inspect, and closes its one session after.
  const broker = startMcpBroker({
    servers: () => [],
    audit: () => undefined,
    ...(ca === undefined ? {} : { http: { ca } }),
  });
  let report: Awaited<ReturnType<typeof broker.inspectProposed>>;
  try {
    report = await broker.inspectProposed("operator", {
      name: "proposed",
      transport: {
        type: "http",
        url: options.url,
        ...(options.ipLiteral === true ? { ipLiteral: true } : {}),
      },
      tools: [],
    });
  } finally {
    await broker.close();
  }
  if (report.error !== undefined) {
    throw new CliError(
      UNREACHABLE.has(report.error.code) ? "IC_NETWORK" : "IC_MCP_REFUSED",
      `${options.url}: ${report.error.code}: ${report.error.message}`,
    );
  }
  const tools = report.tools.filter((tool) => tool.digest !== null);
  if (options.json === true) {
    writeJson(io, {
      schema: MCP_INSPECT_SCHEMA,
      ok: true,
      url: options.url,
      tools: report.tools,
      approve: tools.map(({ name, digest }) => ({ name, digest })),
    });
    return;
  }
  for (const tool of report.tools) {
    const note =
      tool.state === "not_approved" ? "" : `  (${tool.state}${tool.detail ? `: ${tool.detail}` : ""})`;
    io.stdout.write(`${JSON.stringify(tool.name)}  ${tool.digest ?? "-"}${note}\n`);
  }
  io.stdout.write(
    `${tools.length} tool(s). To approve some, name them in an mcp_servers change's "tools":\n` +
      `${JSON.stringify(tools.map(({ name, digest }) => ({ name, digest })))}\n`,
  );
}
