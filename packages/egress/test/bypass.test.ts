import { describe, expect, it } from "vitest";
import type { ResolvedAddress } from "../src/index.js";
import { egressSuite, expectRefused, get, send, sendRaw } from "./helpers.js";

/**
 * The egress bypass corpus: each test is a concrete request a compromised agent could send to get
 * somewhere it is not approved for. Each must be answered with a refusal, audited, and never reach the
 * upstream on 127.0.0.1, which would answer it if it did.
 */
const suite = egressSuite();
const port = () => suite.upstream().port;
const local = () => ({ host: "127.0.0.1", port: port() });
const NOT_ALLOWED = { status: 403, code: "IC_EGRESS_NOT_ALLOWED" };
const BAD = { status: 400, code: "IC_EGRESS_BAD_REQUEST" };

/** Sends `https://<authority>/path` with a Host header that agrees, so only the host rules decide. */
function spelled(socketPath: string, authority: string) {
  return send(socketPath, `https://${authority}/path`, { headers: { Host: authority } });
}

describe("destinations not on the allowlist", () => {
  it("refuses a host name that is not listed, without resolving it", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "api.example.com", port: 443 }] });
    const event = await expectRefused(broker, get(broker.socketPath, "https://evil.example.com/x"), {
      ...NOT_ALLOWED,
      reason: "not_on_allowlist",
    });
    expect(event).toMatchObject({ host: "evil.example.com", port: 443, path: "/x" });
    expect(broker.lookups).toEqual([]);
  });

  it("refuses a listed host on another port", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "api.example.com", port: 443 }] });
    const got = get(broker.socketPath, "https://api.example.com:8443/");
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason: "not_on_allowlist" });
  });

  it("refuses a listed IP on another port", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "127.0.0.1", port: port() + 1 }] });
    const got = get(broker.socketPath, `https://127.0.0.1:${port()}/`);
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason: "ip_literal_not_approved" }, suite.upstream());
  });
});

describe("IP literals in every spelling, 127.0.0.1 not approved", () => {
  it.each([
    ["127.0.0.1", "ip_literal_not_approved"],
    ["2130706433", "ip_literal_not_canonical"],
    ["0177.0.0.1", "ip_literal_not_canonical"],
    ["0x7f.0.0.1", "ip_literal_not_canonical"],
    ["0x7f000001", "ip_literal_not_canonical"],
    ["0X7F000001", "ip_literal_not_canonical"],
    ["127.1", "ip_literal_not_canonical"],
    ["127.0.1", "ip_literal_not_canonical"],
    ["127.000.000.001", "ip_literal_not_canonical"],
    ["127.0.0.1.", "ip_literal_not_canonical"],
    ["0", "ip_literal_not_canonical"],
    ["[::1]", "ip_literal_not_approved"],
    ["[0:0:0:0:0:0:0:1]", "ip_literal_not_canonical"],
    ["[::ffff:127.0.0.1]", "ip_literal_not_canonical"],
    ["[::ffff:7f00:1]", "ip_literal_not_canonical"],
    ["[::FFFF:7F00:1]", "ip_literal_not_canonical"],
    ["[::127.0.0.1]", "ip_literal_not_canonical"],
    ["[fe80::1%25eth0]", "ip_literal_not_canonical"],
    ["[fe80::1%eth0]", "ip_literal_not_canonical"],
    ["169.254.169.254", "ip_literal_not_approved"],
    ["[fd00:ec2::254]", "ip_literal_not_approved"],
  ])("refuses %s", async (host, reason) => {
    const broker = await suite.broker({ allowlist: [{ host: "api.example.com", port: port() }] });
    const got = spelled(broker.socketPath, `${host}:${port()}`);
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason }, suite.upstream());
  });
});

describe("other spellings of an approved 127.0.0.1", () => {
  it.each([
    ["127.1", "ip_literal_not_canonical"],
    ["2130706433", "ip_literal_not_canonical"],
    ["0x7f000001", "ip_literal_not_canonical"],
    ["0177.0.0.1", "ip_literal_not_canonical"],
    ["127.0.0.01", "ip_literal_not_canonical"],
    ["[::ffff:127.0.0.1]", "ip_literal_not_canonical"],
    ["[::ffff:7f00:1]", "ip_literal_not_canonical"],
    ["[64:ff9b::7f00:1]", "ip_literal_not_approved"],
    ["[::1]", "ip_literal_not_approved"],
  ])("refuses %s", async (host, reason) => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = spelled(broker.socketPath, `${host}:${port()}`);
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason }, suite.upstream());
  });

  it("refuses percent-encoding in the host, which URL parsers would decode to 127.0.0.1", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = spelled(broker.socketPath, `%31%32%37.0.0.1:${port()}`);
    await expectRefused(broker, got, { ...BAD, reason: "bad_host" }, suite.upstream());
  });
});

describe("names that resolve to addresses the agent must not reach", () => {
  const cases: [string, ResolvedAddress[]][] = [
    ["127.0.0.1", [{ address: "127.0.0.1", family: 4 }]],
    ["10.0.0.1", [{ address: "10.0.0.1", family: 4 }]],
    ["172.16.5.4", [{ address: "172.16.5.4", family: 4 }]],
    ["192.168.1.1", [{ address: "192.168.1.1", family: 4 }]],
    ["100.64.0.1", [{ address: "100.64.0.1", family: 4 }]],
    ["169.254.169.254", [{ address: "169.254.169.254", family: 4 }]],
    ["0.0.0.0", [{ address: "0.0.0.0", family: 4 }]],
    ["224.0.0.1", [{ address: "224.0.0.1", family: 4 }]],
    ["255.255.255.255", [{ address: "255.255.255.255", family: 4 }]],
    ["::1", [{ address: "::1", family: 6 }]],
    ["::", [{ address: "::", family: 6 }]],
    ["fe80::1", [{ address: "fe80::1", family: 6 }]],
    ["fd00:ec2::254", [{ address: "fd00:ec2::254", family: 6 }]],
    ["fc00::1", [{ address: "fc00::1", family: 6 }]],
    ["::ffff:10.0.0.1", [{ address: "::ffff:10.0.0.1", family: 6 }]],
    [
      "a public address and a private one",
      [
        { address: "93.184.215.14", family: 4 },
        { address: "127.0.0.1", family: 4 },
      ],
    ],
  ];
  it.each(cases)("refuses a name resolving to %s", async (_label, addresses) => {
    const broker = await suite.broker({
      allowlist: [{ host: "internal.example.com", port: port() }],
      answers: () => addresses,
    });
    const got = get(broker.socketPath, `https://internal.example.com:${port()}/`);
    await expectRefused(
      broker,
      got,
      { status: 403, code: "IC_EGRESS_PRIVATE_ADDRESS", reason: "resolves_to_private_address" },
      suite.upstream(),
    );
    expect(broker.lookups).toEqual(["internal.example.com"]);
  });

  it("does not let DNS rebinding swap the address between the check and the connect", async () => {
    // First answer public (TEST-NET-1, never answers), every later one loopback: a broker that
    // resolved once to check and again to connect would reach 127.0.0.1.
    const broker = await suite.broker({
      allowlist: [{ host: "rebind.example.com", port: port() }],
      answers: (_host, call) => [{ address: call === 1 ? "192.0.2.1" : "127.0.0.1", family: 4 }],
      limits: { timeoutMs: 500 },
    });
    const first = await get(broker.socketPath, `https://rebind.example.com:${port()}/`);
    expect([502, 504]).toContain(first.status);
    expect(broker.lookups).toHaveLength(1);
    expect(suite.upstream().connections).toBe(0);
    // The next request resolves again, and that answer is checked before it is dialled.
    const second = await get(broker.socketPath, `https://rebind.example.com:${port()}/`);
    expect(second.status).toBe(403);
    expect(broker.lookups).toHaveLength(2);
    expect(suite.upstream().connections).toBe(0);
    expect(broker.events.map((e) => e.reason)).toEqual([
      first.status === 504 ? "timeout" : "upstream_error",
      "resolves_to_private_address",
    ]);
  });
});

describe("redirects", () => {
  it.each([
    ["an unlisted host", "https://evil.example.com/steal"],
    ["plain http", () => `http://127.0.0.1:${port()}/`],
    ["another spelling of an approved IP", () => `https://0x7f000001:${port()}/`],
    ["a scheme-relative unlisted host", "//evil.example.com/"],
    ["a backslash trick", "/\\evil.example.com/"],
    ["userinfo", () => `https://user:pw@127.0.0.1:${port()}/`],
  ])("refuses a redirect to %s and passes on no Location", async (_label, location) => {
    const broker = await suite.broker({ allowlist: [local()] });
    suite.upstream().handle = (_request, response) => {
      response.writeHead(302, { Location: typeof location === "string" ? location : location() });
      response.end();
    };
    const got = get(broker.socketPath, `https://127.0.0.1:${port()}/go`);
    await expectRefused(broker, got, {
      status: 403,
      code: "IC_EGRESS_REDIRECT_REFUSED",
      reason: "redirect_not_allowed",
    });
    expect((await got).headers.location).toBeUndefined();
    expect(suite.upstream().seen).toHaveLength(1); // the request went; its answer did not come back
  });
});

describe("request targets that are not absolute https URLs", () => {
  it.each([
    [
      "http://",
      () => `http://127.0.0.1:${port()}/`,
      { status: 403, code: "IC_EGRESS_SCHEME_REFUSED" },
      "scheme_not_https",
    ],
    [
      "ws://",
      () => `ws://127.0.0.1:${port()}/`,
      { status: 403, code: "IC_EGRESS_SCHEME_REFUSED" },
      "scheme_not_https",
    ],
    [
      "file:",
      () => "file:///etc/passwd",
      { status: 403, code: "IC_EGRESS_SCHEME_REFUSED" },
      "scheme_not_https",
    ],
    ["origin-form", () => "/v1/x", BAD, "not_absolute_form"],
    // Node's own parser already turns these two away; the pure tests show the broker would too.
    ["https: without //", () => `https:127.0.0.1:${port()}/`, BAD, "malformed_request"],
    ["a backslash", () => `https://127.0.0.1:${port()}\\@evil.example.com/`, BAD, "malformed_request"],
    ["an empty host", () => "https:///x", BAD, "empty_host"],
    ["an empty host with a port", () => `https://:${port()}/`, BAD, "empty_host"],
    ["a fragment", () => `https://127.0.0.1:${port()}/x#frag`, BAD, "fragment"],
    ["userinfo", () => `https://user:pass@127.0.0.1:${port()}/`, BAD, "userinfo"],
    [
      "userinfo naming the approved host",
      () => `https://127.0.0.1:${port()}@evil.example.com/`,
      BAD,
      "userinfo",
    ],
    ["a port with a leading zero", () => `https://127.0.0.1:0${port()}/`, BAD, "bad_target"],
    ["a port out of range", () => "https://127.0.0.1:65536/", BAD, "bad_target"],
    ["an empty port", () => "https://127.0.0.1:/", BAD, "bad_target"],
    ["an underscore in the host", () => "https://api_x.example.com/", BAD, "bad_host"],
  ])("refuses %s", async (_label, target, expected, reason) => {
    const broker = await suite.broker({ allowlist: [local()] });
    const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(target())?.[1] ?? "127.0.0.1";
    const got = send(broker.socketPath, target(), { headers: { Host: authority } });
    const event = await expectRefused(broker, got, { ...expected, reason }, suite.upstream());
    expect(JSON.stringify(event)).not.toMatch(/user:|pass@/);
  });

  it("refuses the asterisk form", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = send(broker.socketPath, "*", { method: "OPTIONS", headers: { Host: `127.0.0.1:${port()}` } });
    await expectRefused(broker, got, { ...BAD, reason: "not_absolute_form" }, suite.upstream());
  });

  it("refuses CONNECT: no tunnels", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = sendRaw(
      broker.socketPath,
      `CONNECT 127.0.0.1:${port()} HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\n\r\n`,
    );
    const event = await expectRefused(
      broker,
      got,
      { status: 403, code: "IC_EGRESS_METHOD_REFUSED", reason: "connect_refused" },
      suite.upstream(),
    );
    expect(event).toMatchObject({ method: "CONNECT", host: "127.0.0.1", port: port() });
  });

  it("refuses methods other than the usual ones", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = get(broker.socketPath, `https://127.0.0.1:${port()}/`, { method: "TRACE" });
    await expectRefused(broker, got, {
      status: 405,
      code: "IC_EGRESS_METHOD_REFUSED",
      reason: "method_not_allowed",
    });
  });

  it("refuses raw non-ASCII in the host", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const target = "https://ｅvil.example.com/";
    const got = await sendRaw(broker.socketPath, `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(got.status).toBe(400);
    expect(["bad_target", "malformed_request"]).toContain((await onlyReason(broker)) ?? "");
    expect(suite.upstream().connections).toBe(0);
  });
});

describe("the Host header", () => {
  const mismatch = { status: 400, code: "IC_EGRESS_HOST_HEADER", reason: "host_header_mismatch" };

  it.each([
    ["names another host", () => "evil.example.com"],
    ["leaves out a port that is not 443", () => "127.0.0.1"],
    ["names another port", () => `127.0.0.1:${port() + 1}`],
    ["spells the host another way", () => `2130706433:${port()}`],
  ])("is refused when it %s", async (_label, host) => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = send(broker.socketPath, `https://127.0.0.1:${port()}/`, { headers: { Host: host() } });
    await expectRefused(broker, got, mismatch, suite.upstream());
  });

  it("is refused when missing", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const got = sendRaw(broker.socketPath, `GET https://127.0.0.1:${port()}/ HTTP/1.1\r\n\r\n`);
    await expectRefused(broker, got, mismatch, suite.upstream());
  });

  it("is refused when sent twice", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const host = `127.0.0.1:${port()}`;
    const got = sendRaw(
      broker.socketPath,
      `GET https://${host}/ HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example.com\r\n\r\n`,
    );
    await expectRefused(broker, got, mismatch, suite.upstream());
  });
});

describe("host-name tricks", () => {
  it("lower-cases an upper-case name before comparing, so it is not a different host", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "api.example.com", port: 443 }] });
    const got = get(broker.socketPath, "https://EVIL.Example.COM/");
    const event = await expectRefused(broker, got, { ...NOT_ALLOWED, reason: "not_on_allowlist" });
    expect(event.host).toBe("evil.example.com");
  });

  it("refuses percent-encoding in a name", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "api.example.com", port: 443 }] });
    const got = get(broker.socketPath, "https://api%2eexample%2ecom/");
    await expectRefused(broker, got, { ...BAD, reason: "bad_host" });
  });

  it("refuses a trailing dot even on an approved name", async () => {
    const broker = await suite.broker({
      allowlist: [{ host: "api.example.com", port: 443 }],
      answers: () => [{ address: "93.184.215.14", family: 4 }],
    });
    const got = get(broker.socketPath, "https://api.example.com./");
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason: "trailing_dot" });
    expect(broker.lookups).toEqual([]);
  });

  it("does not match by suffix or wildcard", async () => {
    const broker = await suite.broker({ allowlist: [{ host: "example.com", port: 443 }] });
    const got = get(broker.socketPath, "https://api.example.com/");
    await expectRefused(broker, got, { ...NOT_ALLOWED, reason: "not_on_allowlist" });
  });
});

describe("headers the agent must not pass on", () => {
  it("strips Proxy-Authorization and every hop-by-hop header; the upstream sees none", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const host = `127.0.0.1:${port()}`;
    const got = await sendRaw(
      broker.socketPath,
      [
        `GET https://${host}/ HTTP/1.1`,
        `Host: ${host}`,
        "Proxy-Authorization: Basic c2VjcmV0",
        "Proxy-Connection: keep-alive",
        "Connection: close, X-Hop-Secret",
        "X-Hop-Secret: 1",
        "Keep-Alive: timeout=5",
        "TE: trailers",
        "Trailer: X-Trailer",
        "Upgrade: websocket",
        "X-Kept: yes",
        "",
        "",
      ].join("\r\n"),
    );
    expect(got.status).toBe(200);
    const headers = suite.upstream().seen[0]?.headers ?? {};
    for (const name of HOP_BY_HOP) expect(headers[name], name).toBeUndefined();
    expect(headers["x-kept"]).toBe("yes");
    expect(headers.connection ?? "").not.toMatch(/x-hop-secret/i);
    expect(await onlyReason(broker)).toBe("ok");
  });

  it("treats an Upgrade request as a plain request and does not pass the Upgrade on", async () => {
    const broker = await suite.broker({ allowlist: [local()] });
    const host = `127.0.0.1:${port()}`;
    const got = await sendRaw(
      broker.socketPath,
      `GET https://${host}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n`,
    );
    expect(got.status).toBe(200);
    const headers = suite.upstream().seen[0]?.headers ?? {};
    expect(headers.upgrade).toBeUndefined();
    expect(await onlyReason(broker)).toBe("ok");
  });
});

const HOP_BY_HOP = [
  "proxy-authorization",
  "proxy-connection",
  "x-hop-secret",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
];

async function onlyReason(broker: { readonly events: readonly { readonly reason: string }[] }) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(broker.events).toHaveLength(1);
  return broker.events[0]?.reason;
}
