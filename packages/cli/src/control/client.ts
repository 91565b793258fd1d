import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
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
  if (url === undefined) {
    const text = await readTrimmed(join(state, "api.json"), "the control plane's address", startHint);
    const parsed = JSON.parse(text) as { url?: unknown };
    if (typeof parsed.url !== "string")
      throw new CliError("IC_USAGE", `${join(state, "api.json")} holds no url`);
    url = parsed.url;
  }
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
