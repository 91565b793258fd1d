import { changeDigest, type JsonObject } from "@ironclaw/gateway";
import { describe, expect, it } from "vitest";
import { APP_JS } from "../src/assets/app-js.js";

/**
 * The page computes the digest it approves with its own SHA-256 and canonical JSON (crypto.subtle is
 * missing on a tailnet address over http). Here that exact code, cut from the served script, is run
 * against the gateway's changeDigest: any difference would refuse honest approvals.
 */
const start = APP_JS.indexOf("  // ---- the digest");
const end = APP_JS.indexOf("  // ---- characters");
const section = APP_JS.slice(start, end);
const digestOf = new Function(`${section}\nreturn digestOf;`)() as (change: unknown) => string;

type Change = Parameters<typeof changeDigest>[0];

function text(seed: number, length: number): string {
  const alphabet = [
    "a",
    "Z",
    "0",
    " ",
    '"',
    "\\",
    "\n",
    "é",
    "а",
    "中",
    "😀",
    "\u{10ffff}",
    "/",
    "<",
    "\u007f",
  ];
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[(seed * 31 + i * 17 + ((i * i) % 7)) % alphabet.length];
  return out;
}

describe("the page's digest", () => {
  it("finds the digest code in the served script", () => {
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
  });

  it("equals the gateway's for every length across SHA-256's block boundaries, and any text", () => {
    for (let length = 0; length < 200; length++) {
      const change: Change = {
        id: `c${length + 1}`,
        kind: "persona",
        payload: { agent: "builder", persona: { name: "p", instructions: text(length, length) } },
        requester: "operator",
      };
      expect(digestOf(change), `instructions of ${length} characters`).toBe(changeDigest(change));
    }
  });

  it("orders keys as the gateway does (UTF-16 code units), including keys named like Object.prototype's", () => {
    const payload = JSON.parse(
      '{"zeta":1,"é":2,"Z":3,"a":[{"b":true,"a":null}],"__proto__":{"x":-0},"constructor":"c","😀":"x","\uffff":0,"agent":"builder"}',
    ) as JsonObject;
    const change = {
      id: "c9",
      kind: "mcp_servers",
      payload,
      requester: "agent:builder",
    } as unknown as Change;
    expect(digestOf(change)).toBe(changeDigest(change));
    const other = { ...change, payload: { ...payload, zeta: 2 } } as Change;
    expect(digestOf(other)).not.toBe(digestOf(change));
  });
});
