import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

const CUT = "\n[output cut: it was longer than the broker passes on]";

/**
 * What the agent gets of a result: the text blocks joined by newlines, other blocks named but not
 * passed (images and resources are not text a model loop reads here), structured content as JSON
 * when there is no text. Cut to `maxBytes` of UTF-8, and said so.
 */
export function formatResult(
  result: CallToolResult,
  maxBytes: number,
): { readonly output: string; readonly isError: boolean; readonly bytes: number } {
  const bytes = Buffer.byteLength(JSON.stringify(result));
  const parts: string[] = [];
  for (const block of result.content ?? []) {
    if (block.type === "text") parts.push(block.text);
    else parts.push(`[${block.type} content not passed on]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    parts.push(JSON.stringify(result.structuredContent));
  return { output: cut(parts.join("\n"), maxBytes), isError: result.isError === true, bytes };
}

function cut(text: string, maxBytes: number): string {
  const encoded = Buffer.from(text, "utf8");
  if (encoded.length <= maxBytes) return text;
  // Decoding a cut sequence would leave U+FFFD; back up to a character boundary instead.
  let end = maxBytes;
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return `${encoded.subarray(0, end).toString("utf8")}${CUT}`;
}
