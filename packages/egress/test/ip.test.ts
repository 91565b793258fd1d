import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressClass, canonicalIp } from "../src/index.js";
import { formatIPv6, parseIPv6 } from "../src/ip.js";

describe("canonicalIp", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["FD7A:115C:A1E0:0::1", "fd7a:115c:a1e0::1"],
    ["::ffff:127.0.0.1", "::ffff:7f00:1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
  ])("writes %s as %s", (text, canonical) => {
    expect(canonicalIp(text)).toBe(canonical);
  });

  it.each([
    "127.1",
    "0x7f.0.0.1",
    "0177.0.0.1",
    "2130706433",
    "127.0.0.01",
    "fe80::1%eth0",
    "example.com",
    "",
  ])("is undefined for %j", (text) => {
    expect(canonicalIp(text)).toBeUndefined();
  });

  it("agrees with the WHATWG URL serialiser on every IPv6 address", () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16).toUpperCase().padStart(4, "0")).join(":");
        const expected = new URL(`https://[${full}]/`).hostname.slice(1, -1);
        expect(formatIPv6(parseIPv6(full) ?? [])).toBe(expected);
        expect(canonicalIp(expected)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe("addressClass", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["100.64.0.1", "private"],
    ["100.127.255.255", "private"],
    ["169.254.1.1", "link_local"],
    ["169.254.169.254", "metadata"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.0.192", "reserved"],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["fe80::1", "link_local"],
    ["febf::1", "link_local"],
    ["fc00::1", "private"],
    ["fdff::1", "private"],
    ["fd00:ec2::254", "metadata"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::10.0.0.1", "private"],
    ["64:ff9b::a00:1", "private"],
    ["not an address", "reserved"],
  ])("%s is %s", (address, kind) => {
    expect(addressClass(address)).toBe(kind);
  });

  it.each([
    "93.184.215.14",
    "8.8.8.8",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "2606:4700::1111",
    "64:ff9b::808:808",
  ])("%s is public", (address) => {
    expect(addressClass(address)).toBeUndefined();
  });
});
