import { constants } from "node:fs";
import { open, readFile, stat } from "node:fs/promises";
import { homedir, networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { isLocalControlHost } from "@ironclaw/gateway";
import { GATEWAY_ERROR_CODES, GatewayError, type GatewayErrorCode } from "@ironclaw/gateway/errors";
import { CliError } from "../errors.js";
import type { CommandIo } from "../io.js";

export interface ConnectionFlags {
  readonly state?: string;
  readonly url?: string;
  readonly tokenFile?: string;
}

export interface Connection {
  readonly url: string;
  readonly token: string;
}

/** DESIGN §1: state lives under ~/.ironclaw unless --state moves it. */
export function stateDirectory(io: CommandIo, state: string | undefined): string {
  return state === undefined ? join(io.env.HOME ?? homedir(), ".ironclaw") : resolve(io.cwd, state);
}

async function readTrimmed(path: string, what: string, fix: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch (cause) {
    throw new CliError("IC_USAGE", `cannot read ${what} ${path}: ${(cause as Error).message}; ${fix}`, {
      cause,
    });
  }
}

/**
 * Where the control plane is and who we are: flags first, then the environment, then what
 * `ironclaw up` wrote into the state directory (its address, and the operator's token file).
 */
export async function connect(io: CommandIo, flags: ConnectionFlags): Promise<Connection> {
  const state = stateDirectory(io, flags.state);
  const startHint = `start the control plane with \`ironclaw up --dev --state ${state}\`, or pass --url`;
  let url = flags.url ?? io.env.IRONCLAW_URL;
  const fromStateDir = url === undefined;
  if (url === undefined) url = await urlFromStateDirectory(state, startHint);
  checkTokenDestination(url, fromStateDir ? join(state, "api.json") : undefined);
  let token = io.env.IRONCLAW_TOKEN;
  if (flags.tokenFile !== undefined || token === undefined) {
    const file =
      flags.tokenFile === undefined
        ? join(state, "tokens", "operator.token")
        : resolve(io.cwd, flags.tokenFile);
    token = await readTrimmed(file, "the token file", "pass --token-file or set IRONCLAW_TOKEN");
  }
  return { url: url.replace(/\/+$/, ""), token };
}

/** Bytes of api.json read at most: it holds one short URL. */
const MAX_API_FILE_BYTES = 4096;

/**
 * The address `ironclaw up` wrote, trusted only if nobody else could have written it: the state
 * directory and api.json must be this user's, and writable by no one else. Otherwise another user
 * could point the CLI, and the operator token it sends, at their own listener.
 */
async function urlFromStateDirectory(state: string, startHint: string): Promise<string> {
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
function checkTokenDestination(url: string, apiFile: string | undefined): void {
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

function isGatewayCode(code: unknown): code is GatewayErrorCode {
  return typeof code === "string" && (GATEWAY_ERROR_CODES as readonly string[]).includes(code);
}

export interface ApiReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One API call. A refusal from the server comes back as the same coded error the server raised. */
export async function call(
  connection: Connection,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  options: { readonly accept?: readonly number[] } = {},
): Promise<ApiReply> {
  let response: Response;
  try {
    response = await fetch(`${connection.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new CliError(
      "IC_NETWORK",
      `cannot reach the control plane at ${connection.url}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = (await response.json()) as Record<string, unknown>;
  } catch (cause) {
    throw new CliError(
      "IC_NETWORK_STATUS",
      `${method} ${path}: HTTP ${response.status} without a JSON body`,
      { cause },
    );
  }
  if (response.ok || options.accept?.includes(response.status) === true)
    return { status: response.status, body: parsed };
  const error = (parsed.error ?? {}) as { code?: unknown; message?: unknown };
  const message = typeof error.message === "string" ? error.message : `HTTP ${response.status}`;
  if (isGatewayCode(error.code)) throw new GatewayError(error.code, message);
  throw new CliError("IC_NETWORK_STATUS", `${method} ${path}: HTTP ${response.status}: ${message}`);
}
