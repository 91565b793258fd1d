import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEgressTarget, checkRedirect, checkResolvedAddresses, type EgressRule } from "../src/index.js";

const head = (target: string, host?: string, method = "GET") => ({
  method,
  target,
  hostHeaders: [host ?? /^https:\/\/([^/?#]*)/i.exec(target)?.[1] ?? ""],
});
const reasonOf = (target: string, allowlist: readonly EgressRule[], host?: string) =>
  checkEgressTarget(head(target, host), allowlist).reason;

describe("checkEgressTarget", () => {
  const list: EgressRule[] = [
    { host: "api.example.com", port: 443 },
    { host: "127.0.0.1", port: 8443 },
    { host: "2001:db8::1", port: 443 },
  ];

  it("allows exact matches and says where the request goes", () => {
    const check = checkEgressTarget(head("https://api.example.com/v1/x?q=1"), list);
    expect(check).toEqual({
      allowed: true,
      reason: "ok",
      target: {
        host: "api.example.com",
        kind: "name",
        port: 443,
        authority: "api.example.com",
        pathAndQuery: "/v1/x?q=1",
        path: "/v1/x",
      },
    });
    expect(reasonOf("https://api.example.com:443", list, "api.example.com:443")).toBe("ok");
    expect(reasonOf("https://127.0.0.1:8443/", list)).toBe("ok");
    expect(reasonOf("https://[2001:db8::1]/", list)).toBe("ok");
    expect(reasonOf("https://API.Example.com/", list, "api.example.com")).toBe("ok");
  });

  it("matches an allowlist IP that is not written canonically by its canonical form", () => {
    expect(reasonOf("https://[2001:db8::1]/", [{ host: "2001:0db8:0:0:0:0:0:1", port: 443 }])).toBe("ok");
  });

  it.each([
    ["https://[2001:DB8::1]/", "ip_literal_not_canonical"],
    ["https://[2001:db8:0:0:0:0:0:1]/", "ip_literal_not_canonical"],
    ["https://127.0.0.1/", "ip_literal_not_approved"],
    ["https://api.example.com:8443/", "not_on_allowlist"],
    ["https://x.api.example.com/", "not_on_allowlist"],
    ["https://example.com/", "not_on_allowlist"],
    ["https://api.example.com./", "trailing_dot"],
    ["https://api..example.com/", "bad_host"],
    ["https://-api.example.com/", "bad_host"],
    ["https://api.example.com\\@evil.example/", "bad_target"],
    ["https:api.example.com/", "bad_target"],
    ["https:/api.example.com/", "bad_target"],
    ["HTTP://api.example.com/", "scheme_not_https"],
    ["api.example.com:443", "scheme_not_https"],
    ["https://[::1/", "bad_host"],
    ["https://[::1]x/", "bad_host"],
    ["https://[v1.x]/", "bad_host"],
    ["https://api.example.com/ x", "bad_target"],
  ])("refuses %s as %s", (target, reason) => {
    expect(reasonOf(target, list, /^[a-z]+:\/\/([^/?#]*)/i.exec(target)?.[1] ?? "x")).toBe(reason);
  });

  it("never reports userinfo in what the audit event gets", () => {
    const check = checkEgressTarget(
      head("https://u:secret@api.example.com:8443/", "api.example.com:8443"),
      list,
    );
    expect(check).toMatchObject({ allowed: false, reason: "userinfo", host: "api.example.com" });
    expect(JSON.stringify(check)).not.toMatch(/secret/);
  });

  it("checks methods before anything else", () => {
    expect(checkEgressTarget(head("api.example.com:443", "api.example.com", "CONNECT"), list)).toMatchObject({
      reason: "connect_refused",
      host: "api.example.com",
      port: 443,
    });
    expect(checkEgressTarget(head("https://api.example.com/", undefined, "TRACE"), list).reason).toBe(
      "method_not_allowed",
    );
  });

  it("checks resolved addresses only when given, and only for names", () => {
    const loopback = [{ address: "127.0.0.1", family: 4 as const }];
    expect(checkEgressTarget(head("https://api.example.com/"), list, loopback).reason).toBe(
      "resolves_to_private_address",
    );
    expect(checkEgressTarget(head("https://127.0.0.1:8443/"), list, loopback).reason).toBe("ok");
  });

  it("lets no WHATWG spelling of an approved IPv4 address through but the canonical one", () => {
    const part = (value: number, base: "dec" | "oct" | "hex") =>
      base === "dec" ? String(value) : base === "oct" ? `0${value.toString(8)}` : `0x${value.toString(16)}`;
    const spelling = fc
      .record({
        value: fc.integer({ min: 0, max: 0xffffffff }),
        parts: fc.integer({ min: 1, max: 4 }),
        bases: fc.array(fc.constantFrom("dec" as const, "oct" as const, "hex" as const), {
          minLength: 4,
          maxLength: 4,
        }),
        dot: fc.boolean(),
      })
      .map(({ value, parts, bases, dot }) => {
        const bytes = [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
        const lead = bytes.slice(0, parts - 1);
        const rest = bytes.slice(parts - 1).reduce((acc, byte) => acc * 256 + byte, 0);
        const text = [...lead, rest].map((n, i) => part(n, bases[i] ?? "dec")).join(".");
        return dot ? `${text}.` : text;
      });
    fc.assert(
      fc.property(spelling, (text) => {
        const canonical = new URL(`https://${text}/`).hostname;
        const check = checkEgressTarget(head(`https://${text}/`), [{ host: canonical, port: 443 }]);
        expect(check.reason).toBe(text === canonical ? "ok" : "ip_literal_not_canonical");
      }),
      { numRuns: 1000 },
    );
  });

  it("lets no other spelling of an approved IPv6 address through", () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const spelled = fc.record({
      groups: fc.array(group, { minLength: 8, maxLength: 8 }),
      upper: fc.boolean(),
      pad: fc.boolean(),
    });
    fc.assert(
      fc.property(spelled, ({ groups, upper, pad }) => {
        let text = groups.map((g) => (pad ? g.toString(16).padStart(4, "0") : g.toString(16))).join(":");
        if (upper) text = text.toUpperCase();
        const canonical = new URL(`https://[${text}]/`).hostname.slice(1, -1);
        const check = checkEgressTarget(head(`https://[${text}]/`), [{ host: canonical, port: 443 }]);
        const mapped = /^::(ffff:)?[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(canonical);
        expect(check.reason).toBe(text === canonical && !mapped ? "ok" : "ip_literal_not_canonical");
      }),
      { numRuns: 500 },
    );
  });
});

describe("checkResolvedAddresses", () => {
  const target = { host: "api.example.com", port: 443 };

  it("lets a private address through only when that exact address is approved for the port", () => {
    const addresses = [{ address: "10.1.2.3", family: 4 as const }];
    expect(checkResolvedAddresses(target, addresses, [{ host: "10.1.2.3", port: 443 }])).toBeUndefined();
    expect(checkResolvedAddresses(target, addresses, [{ host: "10.1.2.3", port: 8443 }])?.reason).toBe(
      "resolves_to_private_address",
    );
    const mapped = [{ address: "::ffff:10.1.2.3", family: 6 as const }];
    expect(checkResolvedAddresses(target, mapped, [{ host: "10.1.2.3", port: 443 }])).toBeUndefined();
  });

  it("refuses when nothing or garbage was resolved", () => {
    expect(checkResolvedAddresses(target, [], [])?.reason).toBe("dns_error");
    expect(checkResolvedAddresses(target, [{ address: "nonsense", family: 4 }], [])?.reason).toBe(
      "resolves_to_private_address",
    );
  });
});

describe("checkRedirect", () => {
  const list: EgressRule[] = [{ host: "api.example.com", port: 443 }];

  it.each([
    "/next",
    "next",
    "?page=2",
    "../up",
    "https://api.example.com/x",
    "//api.example.com/x#frag",
    "HTTPS://API.EXAMPLE.COM/",
  ])("passes %s", (location) => {
    expect(checkRedirect(location, list)).toBeUndefined();
  });

  it.each([
    "https://evil.example.com/",
    "http://api.example.com/",
    "//evil.example.com/",
    "\\\\evil.example.com/",
    "/\\evil.example.com/",
    "https:evil.example.com",
    "https://api.example.com:8443/",
    "https://api.example.com./",
    "https://user@api.example.com/",
    "javascript:alert(1)",
    "https://0x7f000001/",
    "/path with space",
  ])("refuses %s", (location) => {
    expect(checkRedirect(location, list)?.reason).toBe("redirect_not_allowed");
  });
});
