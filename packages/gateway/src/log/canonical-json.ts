import type { JsonValue } from "../json.js";
import { MAX_DEPTH } from "./json-scanner.js";

type JsonObject = Readonly<Record<string, JsonValue>>;

/**
 * Canonical JSON (the JCS / RFC 8785 shape restricted to what the log stores): object keys sorted by
 * UTF-16 code units, recursively; no whitespace; strings escaped as JSON.stringify does; numbers only
 * as safe integers (-0 is written as 0, as JCS does); at most MAX_DEPTH levels of nesting. Anything else
 * is a programming error: TypeError.
 */
export function canonicalJson(value: JsonValue): string {
  return write(value, 1);
}

/** A plain object's keys in canonical order and its `"key":value` members in that order. */
export function sortedMembers(object: JsonObject): { keys: string[]; members: string[] } {
  return members(object, 1);
}

function write(value: JsonValue, depth: number): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new TypeError(`canonical JSON holds only safe integers, found the number ${value}`);
      }
      // String(-0) is "0", which is how -0 is normalised.
      return String(value);
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (depth > MAX_DEPTH) throw new TypeError(`canonical JSON nests at most ${MAX_DEPTH} levels`);
      if (Array.isArray(value)) return array(value, depth);
      return `{${members(value as JsonObject, depth).members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a value of type ${typeof value}`);
  }
}

function members(object: JsonObject, depth: number): { keys: string[]; members: string[] } {
  const prototype = Object.getPrototypeOf(object) as unknown;
  if (prototype !== Object.prototype && prototype !== null) {
    throw new TypeError("canonical JSON holds only plain objects, found an instance of a class");
  }
  // Default sort compares UTF-16 code units, which is exactly the JCS order.
  const keys = Object.keys(object).sort();
  const out: string[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = object[key];
    if (member === undefined)
      throw new TypeError(`canonical JSON cannot hold undefined (key ${JSON.stringify(key)})`);
    out[i] = `${JSON.stringify(key)}:${write(member, depth + 1)}`;
  }
  return { keys, members: out };
}

function array(items: readonly JsonValue[], depth: number): string {
  const parts: string[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // Holes in sparse arrays read as undefined.
    if (item === undefined) throw new TypeError(`canonical JSON cannot hold undefined (array index ${i})`);
    parts[i] = write(item, depth + 1);
  }
  return `[${parts.join(",")}]`;
}
