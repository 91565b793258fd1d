import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { isLocalControlHost } from "@ironclaw/gateway";
import { GatewayError } from "@ironclaw/gateway/errors";
import { CliError } from "../errors.js";

/** Bytes of api.json read at most: it holds one short URL. */
const MAX_API_FILE_BYTES = 4096;

/**
 * The address `ironclaw up` wrote, trusted only if nobody else could have written it: the state
 * directory and api.json must be this user's, and writable by no one else. Otherwise another user
 * could point the CLI, and the operator token it sends, at their own listener.
 */
export async function urlFromStateDirectory(state: string, startHint: string): Promise<string | undefined> {
  const path = join(state, "api.json");
  const me = process.getuid?.();
  const untrusted = (found: string, fix: string) =>
    new GatewayError("IC_STATE_INVALID", `expected ${found}; ${fix}. No token was sent`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    const dir = await stat(state);
    if (me !== undefined && (dir.uid !== me || (dir.mode & 0o022) !== 0)) {
      throw untrusted(
        `${state} to belong to this user and be writable by no one else, found uid ${dir.uid}, mode ${(dir.mode & 0o7777).toString(8)}`,
        `another user could have replaced api.json; check it, then \`chmod 700 ${state}\``,
      );
    }
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (cause) {
    if (cause instanceof GatewayError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    // Not there (yet): the control plane may be starting, or has not run with this state directory.
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP")
      throw untrusted(
        `${path} to be a file, found a symbolic link`,
        "remove it and restart the control plane",
      );
    throw new CliError(
      "IC_USAGE",
      `cannot read the control plane's address ${path}: ${(cause as Error).message}; ${startHint}`,
      {
        cause,
      },
    );
  }
  let text: string;
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_API_FILE_BYTES) {
      throw untrusted(`${path} to be a small regular file`, "remove it and restart the control plane");
    }
    if (me !== undefined && (info.uid !== me || (info.mode & 0o077) !== 0)) {
      throw untrusted(
        `${path} to belong to this user with mode 600, found uid ${info.uid}, mode ${(info.mode & 0o7777).toString(8)}`,
        "another user may have written it; remove it and restart the control plane",
      );
    }
    text = (await handle.readFile()).toString("utf8");
  } finally {
    await handle.close();
  }
  let parsed: { url?: unknown };
  try {
    parsed = JSON.parse(text) as { url?: unknown };
  } catch {
    throw untrusted(`${path} to hold JSON`, "remove it and restart the control plane");
  }
  if (typeof parsed.url !== "string") throw new CliError("IC_USAGE", `${path} holds no url; ${startHint}`);
  return parsed.url;
}

/** A token goes only to loopback or to this host's own Tailscale address, over http(s), nowhere else. */
export function checkTokenDestination(url: string, apiFile: string | undefined): void {
  let host: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http");
    host = parsed.hostname.replace(/^\[|\]$/g, "");
  } catch {
    throw new CliError(
      "IC_USAGE",
      `expected the control plane's URL as http://ADDRESS:PORT, found ${JSON.stringify(url)}`,
    );
  }
  if (isLocalControlHost(host, networkInterfaces())) return;
  const message =
    `refusing to send a token to ${url}: expected loopback or this host's Tailscale address, ` +
    `found ${host}. No token was sent`;
  if (apiFile !== undefined) {
    throw new GatewayError(
      "IC_STATE_INVALID",
      `${message}; ${apiFile} points elsewhere: remove it and restart the control plane`,
    );
  }
  throw new CliError("IC_USAGE", `${message}; run the CLI on the host of the control plane`);
}
