import { mkdir, readdir } from "node:fs/promises";
import { dirname, posix } from "node:path";
import { type Channels, onSocket } from "./channels.js";
import { exchange, type HostApi } from "./host-api.js";
import type { ObjectSchema } from "./input-schema.js";
import { readWorkspaceText, writeWorkspaceText } from "./workspace-io.js";

/** The workspace, the only place the agent may read and write (as its grants allow). */
export const WORKSPACE = "/workspace";

export interface ToolResult {
  readonly ok: boolean;
  readonly output: string;
  /** Change ids a request_change call left pending: the loop waits for a human before going on. */
  readonly held?: readonly string[];
}

export interface ToolContext {
  readonly channels: Channels;
  readonly api: HostApi;
  readonly agent: string;
  readonly workspace: string;
}

export interface ToolSpec {
  readonly description: string;
  /** Checked here before the call, except where the host checks it (an MCP tool's server schema). */
  readonly inputSchema: ObjectSchema | Readonly<Record<string, unknown>>;
  readonly checkedByHost?: true;
  run(input: Record<string, unknown>, context: ToolContext): Promise<ToolResult>;
}

const text = (description: string, maxLength = 4096) => ({ type: "string", description, maxLength }) as const;
const schema = (properties: ObjectSchema["properties"], required: readonly string[]): ObjectSchema => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});

function workspacePath(path: unknown, workspace: string): string {
  if (typeof path !== "string" || path === "" || path.includes("\0"))
    throw new Error("expected a path in the workspace");
  const resolved = posix.resolve(workspace, path);
  if (resolved !== workspace && !resolved.startsWith(`${workspace}/`))
    throw new Error(`${path} is outside the workspace`);
  return resolved;
}

/** The most of a file or page handed back to the model. */
const OUTPUT_LIMIT = 16 * 1024;
const clip = (value: string) =>
  value.length > OUTPUT_LIMIT
    ? `${value.slice(0, OUTPUT_LIMIT)}\n[cut at ${OUTPUT_LIMIT} characters]`
    : value;

/**
 * Every tool compiled into the runtime. Which of them exist for an agent is decided by the host's
 * registry, read again before each call: a tool that is not enabled is not in the table at all.
 */
export const COMPILED_TOOLS: Readonly<Record<string, ToolSpec>> = Object.freeze({
  read_file: {
    description: "Read a text file in the workspace.",
    inputSchema: schema({ path: text("a path relative to the workspace", 1024) }, ["path"]),
    run: async ({ path }, { workspace }) => ({
      ok: true,
      output: clip(await readWorkspaceText(workspacePath(path, workspace), String(path))),
    }),
  },
  write_file: {
    description: "Write a text file in the workspace, replacing it if it exists.",
    inputSchema: schema(
      { path: text("a path relative to the workspace", 1024), text: text("the file's new content", 1 << 20) },
      ["path", "text"],
    ),
    run: async ({ path, text: content }, { workspace }) => {
      const target = workspacePath(path, workspace);
      await mkdir(dirname(target), { recursive: true });
      await writeWorkspaceText(target, String(path), String(content));
      return { ok: true, output: `wrote ${posix.relative(workspace, target)}` };
    },
  },
  list_files: {
    description: "List the entries of a directory in the workspace.",
    inputSchema: schema({ path: text("a directory relative to the workspace; '.' for its top", 1024) }, []),
    run: async ({ path }, { workspace }) => ({
      ok: true,
      output: clip((await readdir(workspacePath(path ?? ".", workspace))).sort().join("\n")),
    }),
  },
  search_workspace: {
    description: "Return the lines of a workspace file that contain a text.",
    inputSchema: schema(
      { path: text("a file relative to the workspace", 1024), text: text("the text to look for", 1024) },
      ["path", "text"],
    ),
    run: async ({ path, text: needle }, { workspace }) => {
      const content = await readWorkspaceText(workspacePath(path, workspace), String(path));
      return {
        ok: true,
        output: clip(
          content
            .split("\n")
            .filter((line) => line.includes(String(needle)))
            .join("\n"),
        ),
      };
    },
  },
  send_message: {
    description: "Send a message to another agent this agent is wired to; the host delivers it.",
    inputSchema: schema({ to: text("the peer agent's name", 32), text: text("the message", 16_384) }, [
      "to",
      "text",
    ]),
    run: async ({ to, text: message }, { api }) => {
      const reply = await api.say(String(message), String(to));
      const error = reply.body.error as { message?: string } | undefined;
      return reply.status === 201
        ? { ok: true, output: `delivered to ${String(to)}` }
        : { ok: false, output: `not delivered: ${error?.message ?? `status ${reply.status}`}` };
    },
  },
  // HTTPS is the broker's job: the agent sends the URL in absolute form over the egress socket.
  http_fetch: {
    description: "Fetch a URL (GET) through the host's egress broker; only approved hosts answer.",
    inputSchema: schema({ url: text("an http or https URL", 2048) }, ["url"]),
    run: async ({ url }, { channels }) => {
      const target = new URL(String(url));
      const { status, text: body } = await onSocket(channels.egress, () =>
        exchange(channels.egress, "GET", target.href, { host: target.host }),
      );
      return { ok: status >= 200 && status < 300, output: clip(`${status} ${body}`) };
    },
  },
});

/**
 * Always offered: the one way to ask for more. It cannot grant anything; the gateway holds what it
 * asks for until a human decides, and refuses it outright without the `changes.request` grant.
 */
export const REQUEST_CHANGE: ToolSpec = {
  description:
    "Ask the operator for a capability you lack (a change of kind enabled_tools, egress, mounts, wiring, " +
    "permissions, persona, skills, mcp_servers, packages or model). The change is held until a human " +
    "approves exactly it; you are told the outcome.",
  inputSchema: schema(
    {
      kind: text("the change kind", 32),
      payload: { type: "object", description: "the change's payload, without the agent field" },
    },
    ["kind", "payload"],
  ),
  run: async ({ kind, payload }, { api, agent }) => {
    const reply = await api.call("POST", "/v1/changes", {
      kind,
      payload: { ...(payload as Record<string, unknown>), agent },
    });
    const change = reply.body.change as { id: string; state: string } | undefined;
    // The gateway says why a verifier refused: {verifier, reason}; the model is told the reason.
    const refusal = reply.body.refusal as { verifier?: string; reason?: string } | undefined;
    if (change === undefined) {
      const error = reply.body.error as { message?: string } | undefined;
      return { ok: false, output: `not requested: ${error?.message ?? `status ${reply.status}`}` };
    }
    if (refusal !== undefined)
      return {
        ok: false,
        output: `change ${change.id} was ${change.state}: ${refusal.reason ?? "refused"} (verifier ${refusal.verifier ?? "?"})`,
      };
    // Not refused: pending, or already decided by a human who was quicker than this reply. Either way
    // the loop reads its state, and the human's reason, before it goes on.
    return { ok: true, output: `change ${change.id} is held for approval`, held: [change.id] };
  },
};

/** An approved MCP tool, as the agent API lists it: the host's broker validates, calls and audits it. */
export function mcpTool(
  name: string,
  description: string,
  inputSchema: Readonly<Record<string, unknown>>,
): ToolSpec {
  return {
    description,
    inputSchema,
    checkedByHost: true,
    run: async (input, { api }) => {
      const reply = await api.call("POST", "/v1/tools/mcp/call", { name, arguments: input });
      const output = typeof reply.body.output === "string" ? reply.body.output : `status ${reply.status}`;
      return { ok: reply.status === 200 && reply.body.ok === true, output: clip(output) };
    },
  };
}
