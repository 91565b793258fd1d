import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { GATEWAY_ERROR_CODES, GatewayError, type GatewayErrorCode } from "@ironclaw/gateway/errors";
import { CliError } from "../errors.js";
import type { CommandIo } from "../io.js";
import { checkTokenDestination, urlFromStateDirectory } from "./api-file.js";

export interface ConnectionFlags {
  readonly state?: string;
  readonly url?: string;
  readonly tokenFile?: string;
}

export interface Connection {
  readonly url: string;
  readonly token: string;
  /** Until when a control plane that is still starting (refusing connections) is waited for. */
  readonly waitUntil?: number;
  /** Says, once, that the CLI is waiting. */
  readonly notice?: (detail: string) => void;
}

/** How long the CLI waits for a control plane that is starting: `up --dev &`, then a command at once. */
const DEFAULT_WAIT_SECONDS = 10;
const POLL_MS = 100;

function waitSeconds(io: CommandIo): number {
  const raw = io.env.IRONCLAW_WAIT_SECONDS;
  if (raw === undefined || raw === "") return DEFAULT_WAIT_SECONDS;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(raw)) {
    throw new CliError("IC_USAGE", `IRONCLAW_WAIT_SECONDS must be a whole number of seconds, not ${raw}`);
  }
  return Number(raw);
}

/** A message written once, however often it is called. */
function onceNotice(io: CommandIo, text: string): (detail: string) => void {
  let said = false;
  return (detail) => {
    if (said) return;
    said = true;
    io.stderr.write(`${text} (${detail})...\n`);
  };
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
  const seconds = waitSeconds(io);
  const waitUntil = Date.now() + seconds * 1000;
  const notice = onceNotice(io, `waiting up to ${seconds} s for the control plane to start`);
  let url = flags.url ?? io.env.IRONCLAW_URL;
  const fromStateDir = url === undefined;
  while (url === undefined) {
    url = await urlFromStateDirectory(state, startHint);
    if (url !== undefined) break;
    if (Date.now() >= waitUntil) {
      throw new CliError(
        "IC_NETWORK",
        `no control plane is running for ${state} (there is no ${join(state, "api.json")}); ${startHint}`,
      );
    }
    notice(`no ${join(state, "api.json")} yet`);
    await sleep(POLL_MS);
  }
  checkTokenDestination(url, fromStateDir ? join(state, "api.json") : undefined);
  let token = io.env.IRONCLAW_TOKEN;
  if (flags.tokenFile !== undefined || token === undefined) {
    const file =
      flags.tokenFile === undefined
        ? join(state, "tokens", "operator.token")
        : resolve(io.cwd, flags.tokenFile);
    token = await readTrimmed(file, "the token file", "pass --token-file or set IRONCLAW_TOKEN");
  }
  return { url: url.replace(/\/+$/, ""), token, waitUntil, notice };
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
  for (;;) {
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
      break;
    } catch (cause) {
      // Refused: nothing listens yet. Only then is trying again safe: the request reached no server.
      const refused = (cause as { cause?: { code?: unknown } }).cause?.code === "ECONNREFUSED";
      if (refused && connection.waitUntil !== undefined && Date.now() < connection.waitUntil) {
        connection.notice?.(`nothing listens at ${connection.url} yet`);
        await sleep(POLL_MS);
        continue;
      }
      throw new CliError(
        "IC_NETWORK",
        `cannot reach the control plane at ${connection.url}: ${(cause as Error).message}; is \`ironclaw up\` running?`,
        { cause },
      );
    }
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
