import { connect, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { egressSuite, get, onlyEvent, sendRaw } from "./helpers.js";

const suite = egressSuite();
const port = () => suite.upstream().port;
const local = () => ({ host: "127.0.0.1", port: port() });

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return address.port;
}

describe("failures that are not the broker's refusals", () => {
  it("answers 502 when the upstream refuses the connection, audited allowed/upstream_error", async () => {
    const free = await closedPort();
    const broker = await suite.broker({ allowlist: [{ host: "127.0.0.1", port: free }] });
    const got = await get(broker.socketPath, `https://127.0.0.1:${free}/`);
    expect({ status: got.status, code: got.code }).toEqual({ status: 502, code: "IC_EGRESS_UPSTREAM" });
    expect(await onlyEvent(broker)).toMatchObject({
      decision: "allowed",
      reason: "upstream_error",
      status: 502,
    });
  });

  it("answers 502 when the name does not resolve, audited allowed/dns_error", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "nowhere.example.com", port: 443 }] });
    const got = await get(broker.socketPath, "https://nowhere.example.com/");
    expect({ status: got.status, code: got.code }).toEqual({ status: 502, code: "IC_EGRESS_DNS" });
    expect(await onlyEvent(broker)).toMatchObject({ decision: "allowed", reason: "dns_error" });
    expect(broker.lookups).toEqual(["nowhere.example.com"]);
  });

  it("cuts the agent's connection when the upstream breaks off its response", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(200, { "Content-Length": "100" });
      response.write("only part");
      setTimeout(() => response.socket?.destroy(), 20);
    };
    await expect(get(broker.socketPath, `https://127.0.0.1:${port()}/`)).rejects.toThrow();
    expect(await onlyEvent(broker)).toMatchObject({
      decision: "allowed",
      reason: "upstream_error",
      status: 200,
      bytesIn: 9,
    });
  });
});

describe("requests node cannot parse", () => {
  it("are answered 400 and audited", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = await sendRaw(broker.socketPath, "NOT HTTP AT ALL\r\n\r\n");
    expect({ status: got.status, code: got.code }).toEqual({ status: 400, code: "IC_EGRESS_BAD_REQUEST" });
    expect(await onlyEvent(broker)).toMatchObject({
      decision: "denied",
      reason: "malformed_request",
      host: "",
    });
    expect(suite.upstream().connections).toBe(0);
  });

  it("whose headers never end are timed out and audited", async () => {
    const broker = await suite.broker({ allowlist: [local()], limits: { timeoutMs: 200 } });
    const socket = connect(broker.socketPath);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(`GET https://127.0.0.1:${port()}/ HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nX-Slow: `);
    await closed;
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 504 .*IC_EGRESS_TIMEOUT/s);
    expect(await onlyEvent(broker)).toMatchObject({ decision: "denied", reason: "timeout", status: 504 });
    expect(suite.upstream().connections).toBe(0);
  });
});
