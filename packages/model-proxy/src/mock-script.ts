import { isIP } from "node:net";
import type { JsonObject } from "./json.js";
import type { NeutralMessage, NeutralTool } from "./neutral.js";

/** One scripted reply: text, tool calls, or both. */
export interface MockReply {
  readonly text?: string;
  readonly toolCalls?: readonly { readonly name: string; readonly input: JsonObject }[];
}

/** What the mock reads from a conversation, for rules and for the built-in script. */
export interface MockContext {
  readonly last: NeutralMessage;
  /** The last message's text when it is the user's, else "". */
  readonly lastUser: string;
  /** The outputs of the last message when it is tool results, else empty. */
  readonly lastToolOutputs: readonly string[];
  readonly offered: ReadonlySet<string>;
  /** The first https URL in lastUser, if any. */
  readonly url: { readonly href: string; readonly host: string; readonly port: number } | undefined;
  /** The offered compiled-in tools: not request_change, send_message or an MCP tool; sorted. */
  readonly compiledTools: readonly string[];
  /**
   * The last message answers only request_change calls: the model asked for capabilities and now
   * hears what the operator decided. Then `request` is the user's message those calls served.
   */
  readonly decided: { readonly request: string; readonly allApplied: boolean } | undefined;
}

const ALWAYS_OFFERED = new Set(["request_change", "send_message"]);
const HTTPS_URL = /https:\/\/[^\s<>"'`]+/;

export function mockContext(messages: readonly NeutralMessage[], tools: readonly NeutralTool[]): MockContext {
  const last = messages[messages.length - 1] as NeutralMessage;
  const lastUser = last.role === "user" ? last.content : "";
  const offered = new Set(tools.map((tool) => tool.name));
  return {
    last,
    lastUser,
    lastToolOutputs: last.role === "tool" ? last.results.map((r) => r.output) : [],
    offered,
    url: firstHttpsUrl(lastUser),
    compiledTools: [...offered].filter((n) => !ALWAYS_OFFERED.has(n) && !n.startsWith("mcp__")).sort(),
    decided: decisions(messages),
  };
}

function decisions(messages: readonly NeutralMessage[]): MockContext["decided"] {
  const last = messages[messages.length - 1];
  const asked = messages[messages.length - 2];
  if (last?.role !== "tool" || asked?.role !== "assistant") return undefined;
  const names = new Map(
    asked.content.flatMap((block) => (block.type === "tool_call" ? [[block.id, block.name] as const] : [])),
  );
  if (last.results.length === 0 || !last.results.every((r) => names.get(r.toolCallId) === "request_change"))
    return undefined;
  const request = [...messages].reverse().find((m) => m.role === "user");
  return {
    request: request?.role === "user" ? request.content : "",
    allApplied: last.results.every((r) => !r.isError && /approved and applied/.test(r.output)),
  };
}

function firstHttpsUrl(text: string): MockContext["url"] {
  const match = HTTPS_URL.exec(text);
  if (match === null) return undefined;
  // Trailing punctuation ends a sentence, not a URL.
  const candidate = match[0].replace(/[.,;:!?)\]]+$/, "");
  try {
    const url = new URL(candidate);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    return { href: url.href, host, port: url.port === "" ? 443 : Number(url.port) };
  } catch {
    return undefined;
  }
}

/** How much of a tool's output the mock quotes back. */
export const QUOTE_CHARS = 200;

/**
 * The built-in script, which drives the README demo. A user message with an https URL: fetch it with
 * http_fetch when offered, else request http_fetch (added to the tools the agent has) and egress to
 * that host and port. The operator's decisions on those requests: once both are applied, back to the
 * request (the fetch). Any other tool result: a reply quoting the start of the output. Anything
 * else: an echo.
 */
export function defaultMockReply(context: MockContext): MockReply {
  const { last, url } = context;
  if (context.decided !== undefined) {
    if (!context.decided.allApplied)
      return { text: `I could not go on: ${context.lastToolOutputs.join("; ").slice(0, QUOTE_CHARS)}` };
    // What was asked for is granted: back to the user's request, with the tools offered now.
    const granted = firstHttpsUrl(context.decided.request);
    if (granted !== undefined && context.offered.has("http_fetch"))
      return { toolCalls: [{ name: "http_fetch", input: { url: granted.href } }] };
    return { text: `Granted: ${context.lastToolOutputs.join("; ").slice(0, QUOTE_CHARS)}` };
  }
  if (last.role === "tool") {
    const output = context.lastToolOutputs[0] ?? "";
    const failed = last.results[0]?.isError === true;
    return { text: `${failed ? "The tool failed" : "The tool said"}: ${output.slice(0, QUOTE_CHARS)}` };
  }
  if (last.role === "assistant") return { text: "(nothing to add)" };
  if (url === undefined) return { text: `You said: ${context.lastUser}` };
  if (context.offered.has("http_fetch"))
    return { toolCalls: [{ name: "http_fetch", input: { url: url.href } }] };
  if (!context.offered.has("request_change")) {
    return { text: `I would need the http_fetch tool and access to ${url.host} to fetch ${url.href}.` };
  }
  const tools = [...new Set([...context.compiledTools, "http_fetch"])].sort();
  return {
    text: `To fetch ${url.href} I need the http_fetch tool and access to ${url.host}:${url.port}; I have asked for both.`,
    toolCalls: [
      { name: "request_change", input: { kind: "enabled_tools", payload: { tools } } },
      {
        name: "request_change",
        input: {
          kind: "egress",
          payload: {
            action: "allow",
            host: url.host,
            port: url.port,
            ...(isIP(url.host) === 0 ? {} : { ipLiteral: true }),
          },
        },
      },
    ],
  };
}
