import { promises as dns } from "node:dns";
import { request } from "node:http";
import { connect, createServer } from "node:net";
import { networkInterfaces } from "node:os";
import type { ProbeConfig } from "./invariants.js";
import { type Observation, observe, why } from "./probe-util.js";

const TIMEOUT_MS = 2000;

/** Whether a TCP connection opens, and what happened. */
export function tcpConnect(host: string, port: number): Promise<{ connected: boolean; detail: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (connected: boolean, what: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ connected, detail: `${host}:${port} ${what}` });
    };
    const timer = setTimeout(() => done(false, "timed out"), TIMEOUT_MS);
    socket.once("connect", () => done(true, "connected"));
    socket.once("error", (error) => done(false, why(error)));
  });
}

async function anyConnects(targets: readonly (readonly [string, number])[]): Promise<Observation> {
  const results = await Promise.all(targets.map(([host, port]) => tcpConnect(host, port)));
  return observe(
    results.some((result) => result.connected) ? "allowed" : "denied",
    results.map((result) => result.detail),
  );
}

export const netHostLoopback = (config: ProbeConfig) => anyConnects([["127.0.0.1", config.hostLoopbackPort]]);

export const netPublic = () =>
  anyConnects([
    ["1.1.1.1", 443],
    ["2606:4700:4700::1111", 443],
  ]);

export function netInterfaces(): Observation {
  const names = Object.keys(networkInterfaces());
  const others = names.filter((name) => name !== "lo");
  return observe(others.length > 0 ? "allowed" : "denied", [`interfaces: ${names.join(", ") || "none"}`]);
}

// c-ares reports these when a server answered at all, which is already a channel out.
const DNS_ANSWERS = new Set([
  "ENOTFOUND",
  "ENODATA",
  "ESERVFAIL",
  "EREFUSED",
  "EFORMERR",
  "EBADRESP",
  "ENOTIMP",
]);

export async function netDns(config: ProbeConfig): Promise<Observation> {
  const details: string[] = [];
  let allowed = false;
  try {
    const address = await dns.lookup("example.com");
    allowed = true;
    details.push(`lookup: ${address.address}`);
  } catch (error) {
    details.push(`lookup: ${why(error)}`);
  }
  for (const server of [config.hostNameserver, "1.1.1.1"]) {
    if (server === undefined) continue;
    const resolver = new dns.Resolver({ timeout: TIMEOUT_MS, tries: 1 });
    resolver.setServers([server]);
    try {
      const addresses = await resolver.resolve4("example.com");
      allowed = true;
      details.push(`${server}: ${addresses.join(",")}`);
    } catch (error) {
      if (DNS_ANSWERS.has(why(error))) allowed = true;
      details.push(`${server}: ${why(error)}`);
    }
  }
  return observe(allowed ? "allowed" : "denied", details);
}

export function controlPlane(config: ProbeConfig): Promise<Observation> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port: config.controlPlanePort, path: "/", timeout: TIMEOUT_MS },
      (res) => {
        res.resume();
        resolve(
          observe("allowed", [`HTTP ${res.statusCode ?? "?"} from 127.0.0.1:${config.controlPlanePort}`]),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (error) =>
      resolve(observe("denied", [`127.0.0.1:${config.controlPlanePort} ${why(error)}`])),
    );
    req.end();
  });
}

/** Control: a listener inside the sandbox is reachable over the sandbox's own loopback. */
export function controlLoopback(): Promise<Observation> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", (error) => resolve(observe("denied", [`listen: ${why(error)}`])));
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      void tcpConnect("127.0.0.1", port).then((result) => {
        server.close();
        resolve(observe(result.connected ? "allowed" : "denied", [result.detail]));
      });
    });
  });
}
