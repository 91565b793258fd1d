import { describe, expect, it } from "vitest";
import {
  checkBindAddress,
  confirmBoundAddress,
  defaultListen,
  isLocalControlHost,
  parseListen,
} from "../../src/api/bind.js";
import { errorOf, fakeInterfaces } from "./helpers.js";

const interfaces = fakeInterfaces({
  lo: ["127.0.0.1", "::1"],
  eth0: ["192.168.1.10", "fe80::1"],
  tailscale0: ["100.101.102.103", "fd7a:115c:a1e0::1234"],
});

describe("parseListen", () => {
  it.each([
    ["100.101.102.103:7878", "100.101.102.103", 7878],
    ["127.0.0.1:0", "127.0.0.1", 0],
    ["[fd7a:115c:a1e0::1234]:7878", "fd7a:115c:a1e0::1234", 7878],
    ["[::1]:65535", "::1", 65535],
  ])("accepts %s", (spec, host, port) => {
    expect(parseListen(spec)).toEqual({ host, port });
  });

  it.each([
    "localhost:7878",
    "tailnet-host.ts.net:7878",
    "::1:7878", // IPv6 without brackets
    "[127.0.0.1]:7878",
    "[fe80::1%eth0]:7878",
    "127.000.0.1:7878",
    "100.101.102.103",
    "100.101.102.103:",
    "100.101.102.103:65536",
    "100.101.102.103:-1",
    "100.101.102.103:+80",
    "100.101.102.103:080",
    "100.101.102.103:80x",
    ":7878",
    "",
  ])("refuses %j", (spec) => {
    const error = errorOf(() => parseListen(spec));
    expect(error.code).toBe("IC_API_BIND_REFUSED");
    expect(error.message).toMatch(/expected/);
  });

  it("says host names are not accepted and what to pass instead", () => {
    expect(errorOf(() => parseListen("localhost:7878")).message).toMatch(
      /host names are not accepted.*tailscale ip/,
    );
  });
});

describe("checkBindAddress", () => {
  it.each([
    ["0.0.0.0", true, /every interface/],
    ["::", true, /every interface/],
    ["192.168.1.10", true, /LAN or public/], // assigned to eth0, still refused
    ["8.8.8.8", true, /LAN or public/],
    ["fe80::1", true, /LAN or public/],
    ["100.100.1.1", true, /not on this host.s Tailscale interface.*100\.101\.102\.103/],
    ["fd7a:115c:a1e0::9", true, /not on this host.s Tailscale interface/],
    ["100.63.255.255", true, /LAN or public/], // just below 100.64.0.0/10
    ["100.128.0.1", true, /LAN or public/], // just above it
    ["fd7a:115c:a1e1::1", true, /LAN or public/], // outside the /48
    ["127.0.0.1", false, /without --dev/],
    ["::1", false, /without --dev/],
    ["::ffff:127.0.0.1", true, /IPv4-mapped/],
    ["::ffff:0.0.0.0", true, /IPv4-mapped/],
    ["::ffff:100.101.102.103", true, /IPv4-mapped/],
    ["localhost", true, /expected an IP address/],
    ["tailnet-host", true, /expected an IP address/],
    ["fe80::1%eth0", true, /expected an IP address/],
    ["", true, /expected an IP address/],
  ])("refuses %j (dev %s)", (host, dev, message) => {
    const error = errorOf(() => checkBindAddress(host, { dev, interfaces }));
    expect(error.code).toBe("IC_API_BIND_REFUSED");
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/Tailscale/);
  });

  it.each([
    ["100.101.102.103", false],
    ["100.101.102.103", true],
    ["fd7a:115c:a1e0::1234", false],
    ["FD7A:115C:A1E0:0:0:0:0:1234", false], // another spelling of the assigned address
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["::1", true],
  ])("accepts %s (dev %s)", (host, dev) => {
    expect(() => checkBindAddress(host, { dev, interfaces })).not.toThrow();
  });

  it("tells the user when the host has no Tailscale address at all", () => {
    const error = errorOf(() =>
      checkBindAddress("100.101.102.103", { dev: false, interfaces: fakeInterfaces({ eth0: ["10.0.0.2"] }) }),
    );
    expect(error.message).toMatch(/no Tailscale address.*start Tailscale/);
  });
});

describe("defaultListen", () => {
  it("is loopback port 7878 in development", () => {
    expect(defaultListen({ dev: true, interfaces: {} })).toEqual({ host: "127.0.0.1", port: 7878 });
  });

  it("is this host's Tailscale IPv4 address otherwise", () => {
    expect(defaultListen({ dev: false, interfaces })).toEqual({ host: "100.101.102.103", port: 7878 });
  });

  it("falls back to the Tailscale IPv6 address", () => {
    const v6Only = fakeInterfaces({ tailscale0: ["fd7a:115c:a1e0::1234"], eth0: ["192.168.1.10"] });
    expect(defaultListen({ dev: false, interfaces: v6Only })).toEqual({
      host: "fd7a:115c:a1e0::1234",
      port: 7878,
    });
  });

  it("refuses without a Tailscale address, saying to start Tailscale or pass --dev", () => {
    const error = errorOf(() =>
      defaultListen({ dev: false, interfaces: fakeInterfaces({ eth0: ["192.168.1.10"] }) }),
    );
    expect(error.code).toBe("IC_API_BIND_REFUSED");
    expect(error.message).toMatch(/tailscale up.*--dev/);
  });
});

describe("confirmBoundAddress", () => {
  it("accepts the requested address, in any spelling, and an ephemeral port", () => {
    expect(
      confirmBoundAddress({ host: "127.0.0.1", port: 0 }, { address: "127.0.0.1", port: 40123 }),
    ).toEqual({
      host: "127.0.0.1",
      port: 40123,
    });
    expect(
      confirmBoundAddress(
        { host: "FD7A:115C:A1E0:0::1234", port: 7878 },
        { address: "fd7a:115c:a1e0::1234", port: 7878 },
      ),
    ).toEqual({ host: "fd7a:115c:a1e0::1234", port: 7878 });
  });

  it.each([
    [{ address: "0.0.0.0", port: 7878 }],
    [{ address: "::", port: 7878 }],
    [{ address: "127.0.0.1", port: 7879 }],
    ["/tmp/socket"],
    [null],
  ])("refuses a socket bound to %j", (actual) => {
    const error = errorOf(() => confirmBoundAddress({ host: "127.0.0.1", port: 7878 }, actual));
    expect(error.code).toBe("IC_API_BIND_REFUSED");
  });
});

describe("what counts as this host's Tailscale address (finding 7)", () => {
  it("is an address of Tailscale's range on Tailscale's interface only, never carrier-grade NAT", () => {
    const cgnat = fakeInterfaces({ eth0: ["100.101.102.103"], wlan0: ["fd7a:115c:a1e0::99"] });
    const error = errorOf(() => checkBindAddress("100.101.102.103", { dev: false, interfaces: cgnat }));
    expect(error.code).toBe("IC_API_BIND_REFUSED");
    expect(error.message).toContain("carrier-grade NAT");
    expect(() => checkBindAddress("fd7a:115c:a1e0::99", { dev: false, interfaces: cgnat })).toThrow(
      /not on this host's Tailscale interface/,
    );
    expect(errorOf(() => defaultListen({ dev: false, interfaces: cgnat })).code).toBe("IC_API_BIND_REFUSED");
    const tailnet = fakeInterfaces({ eth0: ["100.64.0.7"], tailscale0: ["100.101.102.103"] });
    expect(defaultListen({ dev: false, interfaces: tailnet }).host).toBe("100.101.102.103");
    expect(() => checkBindAddress("100.64.0.7", { dev: false, interfaces: tailnet })).toThrow(
      /carrier-grade NAT/,
    );
    expect(() => checkBindAddress("100.101.102.103", { dev: false, interfaces: tailnet })).not.toThrow();
    expect(isLocalControlHost("100.101.102.103", tailnet)).toBe(true);
    expect(isLocalControlHost("100.64.0.7", tailnet)).toBe(false);
    expect(isLocalControlHost("127.0.0.5", tailnet)).toBe(true);
    expect(isLocalControlHost("192.168.1.10", tailnet)).toBe(false);
  });
});
