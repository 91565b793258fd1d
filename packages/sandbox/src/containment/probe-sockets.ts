import { existsSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { AGENT_SOCKET_GREETING, NOT_ALLOWLISTED_HOST } from "./invariants.js";
import { attempt, type Observation, observe, why } from "./probe-util.js";

const AGENT_SOCKET = "/run/ironclaw/agent.sock";
const EGRESS_SOCKET = "/run/ironclaw/egress.sock";
const TIMEOUT_MS = 3000;

/** Connects to a unix socket and collects what the server says until it closes or the time is up. */
function unixExchange(path: string): Promise<{ connected: boolean; received: string; detail: string }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let connected = false;
    let received = "";
    const done = (what: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ connected, received, detail: `${path}: ${what}` });
    };
    const timer = setTimeout(() => done(connected ? "connected, timed out" : "timed out"), TIMEOUT_MS);
    socket.setEncoding("utf8");
    socket.once("connect", () => {
      connected = true;
    });
    socket.on("data", (chunk: string) => {
      received += chunk;
    });
    socket.once("end", () => done("connected, closed by the server"));
    socket.once("error", (error) => done(why(error)));
  });
}

export async function egressBeforeApproval(): Promise<Observation> {
  const exists = attempt(() => existsSync(EGRESS_SOCKET));
  const exchange = await unixExchange(EGRESS_SOCKET);
  const present = exists.ok && exists.value === true;
  return observe(present || exchange.connected ? "allowed" : "denied", [
    `exists ${EGRESS_SOCKET}: ${exists.ok ? String(exists.value) : exists.reason}`,
    exchange.detail,
  ]);
}

/** An MCP server's sandbox: the agent's socket must be neither there nor reachable. */
export async function mcpAgentSocket(): Promise<Observation> {
  const exists = attempt(() => existsSync(AGENT_SOCKET));
  const exchange = await unixExchange(AGENT_SOCKET);
  const present = exists.ok && exists.value === true;
  return observe(present || exchange.connected ? "allowed" : "denied", [
    `exists ${AGENT_SOCKET}: ${exists.ok ? String(exists.value) : exists.reason}`,
    exchange.detail,
  ]);
}

export async function controlAgentSocket(): Promise<Observation> {
  const exchange = await unixExchange(AGENT_SOCKET);
  const answered = exchange.received.startsWith(AGENT_SOCKET_GREETING);
  return observe(answered ? "allowed" : "denied", [
    exchange.detail,
    `greeting: ${answered ? "received" : "none"}`,
  ]);
}

/** The status the broker answers a proxy request with, or why there was none. */
function proxyRequest(method: "CONNECT" | "GET", path: string): Promise<{ status?: number; detail: string }> {
  return new Promise((resolve) => {
    const req = request({
      socketPath: EGRESS_SOCKET,
      method,
      path,
      headers: { host: NOT_ALLOWLISTED_HOST },
      timeout: TIMEOUT_MS,
    });
    const answered = (status: number | undefined) => {
      req.destroy();
      resolve(
        status === undefined
          ? { detail: `${method} ${path}: no status` }
          : { status, detail: `${method} ${path}: HTTP ${status}` },
      );
    };
    req.once("connect", (res) => answered(res.statusCode));
    req.once("response", (res) => answered(res.statusCode));
    req.once("timeout", () => req.destroy(new Error("timed out")));
    req.once("error", (error) => resolve({ detail: `${method} ${path}: ${why(error)}` }));
    req.end();
  });
}

/**
 * Asks the broker, as an HTTP proxy (CONNECT and absolute-form GET), for a host no allowlist can
 * hold. A 2xx to either is a fetch; a refusal to both is "denied"; no answer proves nothing.
 */
export async function egressAllowlist(): Promise<Observation> {
  const results = [
    await proxyRequest("CONNECT", `${NOT_ALLOWLISTED_HOST}:443`),
    await proxyRequest("GET", `http://${NOT_ALLOWLISTED_HOST}/`),
  ];
  const details = results.map((result) => result.detail);
  if (results.some((result) => result.status !== undefined && result.status >= 200 && result.status < 300))
    return observe("allowed", details);
  if (results.every((result) => result.status !== undefined)) return observe("denied", details);
  return observe("inconclusive", [...details, "the broker did not answer, so its allowlist was not tested"]);
}
