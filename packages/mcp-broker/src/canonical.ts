import { createHash } from "node:crypto";

/** Deeper JSON than this is refused: no honest tool schema or argument nests so far. */
export const CANONICAL_MAX_DEPTH = 64;

/**
 * RFC 8785 (JCS) canonical JSON: object keys sorted by UTF-16 code units, no whitespace, strings as
 * JSON.stringify writes them, numbers as ECMAScript writes them (which is JCS's rule; -0 as 0).
 * Refused with a TypeError: a lone surrogate (JCS forbids it), a non-finite number, a value JSON has
 * no form for, and nesting past CANONICAL_MAX_DEPTH. Hand-written rather than the gateway's
 * canonicalJson, which holds only safe integers: tool schemas carry numbers like 0.5.
 */
export function jcs(value: unknown): string {
  return write(value, 1);
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case "string":
      if (LONE_SURROGATE.test(value)) throw new TypeError("canonical JSON cannot hold a lone surrogate");
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot hold the number ${value}`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth > CANONICAL_MAX_DEPTH)
        throw new TypeError(`canonical JSON nests at most ${CANONICAL_MAX_DEPTH} levels`);
      if (Array.isArray(value)) return `[${value.map((item) => write(item, depth + 1)).join(",")}]`;
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null)
        throw new TypeError("canonical JSON holds only plain objects");
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      return `{${keys.map((key) => `${write(key, depth)}:${write(record[key], depth + 1)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a value of type ${typeof value}`);
  }
}

/** The part of a tool an approval pins: what the model reads and what it must send. */
export interface ToolFace {
  readonly name: string;
  /** Left out of the digest's object when the server gives none. */
  readonly description?: string | undefined;
  readonly inputSchema: unknown;
}

/**
 * `sha256:<hex>` of JCS({name, description, inputSchema}) in UTF-8, `description` omitted when the
 * server sends none. This is the digest an `mcp_servers` change names for each tool.
 */
export function toolDigest(tool: ToolFace): string {
  const face: Record<string, unknown> = { name: tool.name, inputSchema: tool.inputSchema };
  if (tool.description !== undefined) face.description = tool.description;
  return sha256(jcs(face));
}

/** `sha256:<hex>` of the canonical arguments: the audit records this, never the arguments. */
export function argumentsDigest(args: unknown): string {
  return sha256(jcs(args));
}

function sha256(text: string): string {
  return `sha256:${createHash("sha256").update(text, "utf8").digest("hex")}`;
}
