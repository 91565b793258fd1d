import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, posix } from "node:path";
import { EGRESS_SOCKET, exchange, host } from "./host-api.js";

/** The workspace, the only place the agent may read and write. */
export const WORKSPACE = "/workspace";

export interface ToolResult {
  readonly ok: boolean;
  readonly output: string;
}

type Tool = (input: Record<string, unknown>) => Promise<ToolResult>;

function workspacePath(path: unknown): string {
  if (typeof path !== "string" || path === "" || path.includes("\0"))
    throw new Error("expected a path in the workspace");
  const resolved = posix.resolve(WORKSPACE, path);
  if (resolved !== WORKSPACE && !resolved.startsWith(`${WORKSPACE}/`))
    throw new Error(`${path} is outside the workspace`);
  return resolved;
}

/**
 * Every tool compiled into the runtime. Which of them exist for an agent is decided by the host's
 * registry, read before each step: a tool that is not enabled is not in the table the agent can call.
 */
export const COMPILED_TOOLS: Readonly<Record<string, Tool>> = {
  read_file: async ({ path }) => ({ ok: true, output: await readFile(workspacePath(path), "utf8") }),
  write_file: async ({ path, text }) => {
    const target = workspacePath(path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, String(text ?? ""));
    return { ok: true, output: `wrote ${target}` };
  },
  list_files: async ({ path }) => ({
    ok: true,
    output: (await readdir(workspacePath(path ?? "."))).sort().join("\n"),
  }),
  search_workspace: async ({ path, text }) => {
    const content = await readFile(workspacePath(path), "utf8");
    const needle = String(text ?? "");
    return {
      ok: true,
      output: content
        .split("\n")
        .filter((line) => line.includes(needle))
        .join("\n"),
    };
  },
  send_message: async ({ text }) => {
    const reply = await host("POST", "/v1/messages", { text: String(text ?? "") });
    return { ok: reply.status === 201, output: `status ${reply.status}` };
  },
  // HTTPS is the broker's job: the agent sends the URL in absolute form over the egress socket.
  http_fetch: async ({ url }) => {
    const target = new URL(String(url));
    const { status, text } = await exchange(EGRESS_SOCKET, "GET", target.href, { host: target.host });
    return { ok: status >= 200 && status < 300, output: `${status} ${text.slice(0, 2000)}` };
  },
};

/** The tools this agent has, from the registry's list: anything else does not exist for it. */
export function enabledTools(enabled: readonly string[]): Readonly<Record<string, Tool>> {
  return Object.fromEntries(
    enabled
      .filter((name) => Object.hasOwn(COMPILED_TOOLS, name))
      .map((name) => [name, COMPILED_TOOLS[name] as Tool]),
  );
}
