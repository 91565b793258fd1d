import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { argumentsDigest, jcs, toolDigest } from "./canonical.js";
import { isMcpBrokerError, McpBrokerError, type McpErrorCode } from "./errors.js";
import { type Limits, resolveLimits } from "./limits.js";
import { approvedTools, fullToolName } from "./names.js";
import { RefusalCount } from "./refusal-count.js";
import { formatResult } from "./result.js";
import { schemaProblem, validationProblem } from "./schema.js";
import { ServerSession } from "./session.js";
import type {
  McpAuditEvent,
  McpBroker,
  McpBrokerOptions,
  McpCallResult,
  McpServerApproval,
  McpServerReport,
  McpToolApproval,
  McpToolState,
  McpToolView,
} from "./types.js";

/** How an approved tool stands against what the server offers right now. */
type Judged =
  | { readonly ok: true; readonly tool: Tool }
  | {
      readonly ok: false;
      readonly state: Exclude<McpToolState, "approved" | "not_approved">;
      readonly message: string;
    };

/**
 * The host's MCP broker: one client per approved (agent, server), made on first use and remade when
 * the approval changes or the connection ends. The approvals are read at every call, and the server's
 * tools are listed afresh at every call too, so a tool whose face changed since approval is refused
 * at once (a rug pull), not at the next listing.
 */
export function startMcpBroker(options: McpBrokerOptions): McpBroker {
  const limits = resolveLimits(options.limits);
  const sessions = new Map<string, { readonly key: string; readonly session: Promise<ServerSession> }>();
  let auditBroken = false;
  let closed = false;

  const sessionFor = async (agent: string, server: McpServerApproval): Promise<ServerSession> => {
    const slot = JSON.stringify([agent, server.name]);
    const key = jcs(server.transport);
    for (;;) {
      if (closed) throw new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", "the broker is closed");
      const known = sessions.get(slot);
      if (known !== undefined) {
        const session = await known.session.catch(() => undefined);
        if (known.key === key && session?.isOpen === true) return session;
        // Another call replaced it while this one waited: use theirs, never start a second one.
        if (sessions.get(slot) !== known) continue;
        sessions.delete(slot);
        void session?.close();
      }
      const session = ServerSession.connect(agent, server, options, limits);
      sessions.set(slot, { key, session });
      session.catch(() => {
        if (sessions.get(slot)?.session === session) sessions.delete(slot);
      });
      return session;
    }
  };

  /** Closes the sessions of servers no longer approved for the agent. */
  const sweep = async (agent: string, servers: readonly McpServerApproval[]): Promise<void> => {
    for (const [slot, entry] of sessions) {
      const [owner, name] = JSON.parse(slot) as [string, string];
      if (owner !== agent || servers.some((s) => s.name === name)) continue;
      sessions.delete(slot);
      await (await entry.session.catch(() => undefined))?.close();
    }
  };

  const audit = (event: McpAuditEvent): void => {
    if (auditBroken) throw new McpBrokerError("IC_MCP_AUDIT_FAILED", "the audit log cannot be written");
    try {
      options.audit(event);
    } catch (error) {
      auditBroken = true;
      throw new McpBrokerError("IC_MCP_AUDIT_FAILED", "the audit log cannot be written", { cause: error });
    }
  };

  const refusals = new RefusalCount(limits.refusalsPerWindow, limits.refusalWindowMs);
  const counted = (agent: string, count: number): McpAuditEvent => ({
    type: "mcp.call",
    agent,
    server: "",
    tool: "",
    argumentsDigest: null,
    durationMs: 0,
    resultBytes: 0,
    decision: "refused",
    reason: "IC_MCP_REFUSALS_COUNTED",
    count,
  });

  return {
    async tools(agent) {
      const servers = options.servers(agent);
      await sweep(agent, servers);
      const views: McpToolView[] = [];
      for (const server of servers) {
        if (server.tools.length === 0) continue;
        let offered: Tool[];
        try {
          offered = await (await sessionFor(agent, server)).listTools();
        } catch {
          // A server that cannot be reached shows no tools; a call says why.
          continue;
        }
        for (const approved of server.tools) {
          const judged = judge(approved, offered, limits);
          if (!judged.ok) continue;
          views.push({
            name: fullToolName(server.name, approved.name),
            description: judged.tool.description ?? "",
            inputSchema: judged.tool.inputSchema,
          });
        }
      }
      return views;
    },

    async call(agent, name, args) {
      const started = performance.now();
      let server = "";
      let tool = name;
      let digest: string | null = null;
      try {
        digest = argumentsDigest(args);
      } catch {}
      const finish = (result: McpCallResult, resultBytes: number, reason: string): McpCallResult => {
        audit({
          type: "mcp.call",
          agent,
          server,
          tool,
          argumentsDigest: digest,
          durationMs: Math.round(performance.now() - started),
          resultBytes,
          decision: result.code === undefined ? "allowed" : "refused",
          reason,
        });
        return result;
      };
      const refuse = (code: McpErrorCode, message: string, resultBytes = 0): McpCallResult =>
        finish({ ok: false, output: `${code}: ${message}`, code }, resultBytes, code);
      // A refusal that reached no server costs the agent nothing: audited one by one only so often.
      const refuseEarly = (code: McpErrorCode, message: string): McpCallResult => {
        const { write, ended } = refusals.take(agent);
        if (ended > 0) audit(counted(agent, ended));
        return write ? refuse(code, message) : { ok: false, output: `${code}: ${message}`, code };
      };
      if (auditBroken) throw new McpBrokerError("IC_MCP_AUDIT_FAILED", "the audit log cannot be written");

      const servers = options.servers(agent);
      const found = approvedTools(servers).get(name);
      if (found === undefined)
        return refuseEarly("IC_MCP_UNKNOWN_TOOL", `no approved MCP tool is named ${JSON.stringify(name)}`);
      server = found.server.name;
      tool = found.tool.name;
      if (typeof args !== "object" || args === null || Array.isArray(args))
        return refuseEarly("IC_MCP_BAD_ARGUMENTS", "expected the arguments to be a JSON object");
      if (digest === null)
        return refuseEarly(
          "IC_MCP_BAD_ARGUMENTS",
          "expected the arguments to be plain JSON (no lone surrogates)",
        );
      try {
        const session = await sessionFor(agent, found.server);
        const judged = judge(found.tool, await session.listTools(), limits);
        if (!judged.ok) return refuse(codeOf(judged.state), judged.message);
        const problem = validationProblem(judged.tool.inputSchema, args);
        if (problem !== undefined)
          return refuse(
            "IC_MCP_BAD_ARGUMENTS",
            `the arguments do not match the tool's approved schema: ${problem}`,
          );
        const result = await session.callTool(found.tool.name, args as Record<string, unknown>);
        const formatted = formatResult(result, limits.outputBytes);
        return finish(
          { ok: !formatted.isError, output: formatted.output },
          formatted.bytes,
          formatted.isError ? "tool_error" : "ok",
        );
      } catch (error) {
        if (isMcpBrokerError(error) && error.code === "IC_MCP_AUDIT_FAILED") throw error;
        // Anything else (a sandbox that cannot start, say) is still a refusal, audited like the rest.
        if (!isMcpBrokerError(error))
          return refuse("IC_MCP_SERVER_UNAVAILABLE", error instanceof Error ? error.message : String(error));
        return refuse(error.code, error.message);
      }
    },

    async inspect(agent) {
      const reports: McpServerReport[] = [];
      for (const server of options.servers(agent))
        reports.push(await inspected(server, () => sessionFor(agent, server), false, limits));
      return reports;
    },

    async inspectProposed(agent, server) {
      return inspected(server, () => ServerSession.connect(agent, server, options, limits), true, limits);
    },

    async close() {
      closed = true;
      for (const [agent, count] of refusals.drain()) {
        try {
          audit(counted(agent, count));
        } catch {
          // The audit already failed and said so; closing goes on.
        }
      }
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map(async (entry) => (await entry.session.catch(() => undefined))?.close()));
    },
  };
}

/** One server's report; a session of its own (`own`) is closed after. */
async function inspected(
  server: McpServerApproval,
  open: () => Promise<ServerSession>,
  own: boolean,
  limits: Limits,
): Promise<McpServerReport> {
  let session: ServerSession | undefined;
  try {
    session = await open();
    return { server: server.name, tools: report(server, await session.listTools(), limits) };
  } catch (error) {
    const { code, message } = isMcpBrokerError(error)
      ? error
      : {
          code: "IC_MCP_SERVER_UNAVAILABLE",
          message: error instanceof Error ? error.message : String(error),
        };
    return { server: server.name, error: { code, message }, tools: [] };
  } finally {
    if (own) await session?.close();
  }
}

/** The approved tool against the live list: offered once, by that exact name, with the approved digest. */
function judge(approved: McpToolApproval, offered: readonly Tool[], limits: Limits): Judged {
  const matches = offered.filter((tool) => tool.name === approved.name);
  if (matches.length !== 1) {
    const why = matches.length === 0 ? "does not offer" : "offers more than one tool named";
    return { ok: false, state: "not_offered", message: `the server ${why} ${JSON.stringify(approved.name)}` };
  }
  const tool = matches[0] as Tool;
  const live = liveDigest(tool, limits);
  if (typeof live !== "string") return { ok: false, state: "schema_unsupported", message: live.problem };
  if (live !== approved.digest)
    return {
      ok: false,
      state: "digest_mismatch",
      message: `the server changed ${JSON.stringify(approved.name)} since it was approved (approved ${approved.digest}, offered ${live}); it stays refused until a change approving the new digest is`,
    };
  const problem = schemaProblem(tool.inputSchema);
  if (problem !== undefined)
    return {
      ok: false,
      state: "schema_unsupported",
      message: `the tool's input schema cannot be checked: ${problem}`,
    };
  return { ok: true, tool };
}

function liveDigest(tool: Tool, limits: Limits): string | { readonly problem: string } {
  const face =
    tool.description === undefined
      ? { name: tool.name, inputSchema: tool.inputSchema }
      : { name: tool.name, description: tool.description, inputSchema: tool.inputSchema };
  try {
    if (Buffer.byteLength(jcs(face)) > limits.toolFaceBytes)
      return { problem: `the tool's name, description and schema exceed ${limits.toolFaceBytes} bytes` };
    return toolDigest(face);
  } catch (error) {
    return { problem: `the tool cannot be digested: ${(error as Error).message}` };
  }
}

function report(
  server: McpServerApproval,
  offered: readonly Tool[],
  limits: Limits,
): McpServerReport["tools"] {
  const rows: McpServerReport["tools"][number][] = [];
  for (const tool of offered) {
    const approved = server.tools.find((t) => t.name === tool.name);
    const live = liveDigest(tool, limits);
    const digest = typeof live === "string" ? live : null;
    if (approved === undefined) {
      rows.push({ name: tool.name, state: "not_approved", digest });
      continue;
    }
    const judged = judge(approved, offered, limits);
    rows.push(
      judged.ok
        ? { name: tool.name, state: "approved", digest }
        : { name: tool.name, state: judged.state, digest, detail: judged.message },
    );
  }
  for (const approved of server.tools)
    if (!offered.some((tool) => tool.name === approved.name))
      rows.push({ name: approved.name, state: "not_offered", digest: null });
  return rows;
}

function codeOf(state: Exclude<McpToolState, "approved" | "not_approved">): McpErrorCode {
  if (state === "digest_mismatch") return "IC_MCP_DIGEST_MISMATCH";
  if (state === "schema_unsupported") return "IC_MCP_SCHEMA_UNSUPPORTED";
  return "IC_MCP_TOOL_NOT_OFFERED";
}
