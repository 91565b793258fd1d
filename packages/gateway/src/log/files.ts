import { join } from "node:path";

/** The files of a state directory (DESIGN.md §5). */
export const EVENTS_FILE = "events.jsonl";
export const CHECKPOINTS_FILE = "checkpoints.jsonl";
export const LOCK_FILE = "gateway.lock";
export const PRIVATE_KEY_FILE = "host-key.pem";
export const PUBLIC_KEY_FILE = "host-key.pub.pem";

export function statePath(dir: string, file: string): string {
  return join(dir, file);
}

export function isErrnoCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
