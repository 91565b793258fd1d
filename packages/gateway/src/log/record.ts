import { hash as digest } from "node:crypto";
import type { JsonValue } from "../json.js";
import { sortedMembers } from "./canonical-json.js";

/** One line of events.jsonl. */
export interface LogRecord {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly prev: string;
  readonly hash: string;
  readonly [field: string]: JsonValue;
}

/** What a caller appends; the log adds seq, time, prev and hash. */
export interface NewEvent {
  readonly type: string;
  readonly [field: string]: JsonValue;
}

/** The `prev` of record 1 and the hash of the empty log. */
export const ZERO_HASH = "0".repeat(64);

/** Keys the log assigns itself; an event may not carry them. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["seq", "time", "prev", "hash"]);

/** A line longer than this is refused when writing and reported as corrupt when reading. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export const HEX64 = /^[0-9a-f]{64}$/;

/** `Date.prototype.toISOString` output, including its six-digit extended years. */
export const ISO_TIME = /^(?:\d{4}|[+-]\d{6})-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function sha256Hex(text: string): string {
  return digest("sha256", text, "hex");
}

/** Builds the full record for `event` at `seq` and its line (canonical JSON + LF). Throws TypeError on bad input. */
export function sealRecord(
  event: NewEvent,
  seq: number,
  time: string,
  prev: string,
): { record: LogRecord; line: string } {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new TypeError("an event must be a plain object with a string `type`");
  }
  if (typeof event.type !== "string" || event.type.length === 0) {
    throw new TypeError("an event needs a non-empty string `type`");
  }
  for (const key of Object.keys(event)) {
    if (RESERVED_KEYS.has(key)) {
      throw new TypeError(`event field ${JSON.stringify(key)} is reserved for the log; rename it`);
    }
  }
  // Spread (not assignment) so a "__proto__" field stays an own data property.
  const body = { ...event, seq, time, prev };
  const { keys, members } = sortedMembers(body);
  const hash = sha256Hex(`{${members.join(",")}}`);
  // The line is the same members with "hash" in its sorted place: serialise once.
  let at = 0;
  while (at < keys.length && (keys[at] as string) < "hash") at++;
  members.splice(at, 0, `"hash":"${hash}"`);
  const record: LogRecord = { ...body, hash };
  const line = `{${members.join(",")}}\n`;
  if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
    throw new RangeError(`an event may take at most ${MAX_LINE_BYTES} bytes as a log line`);
  }
  return { record, line };
}
