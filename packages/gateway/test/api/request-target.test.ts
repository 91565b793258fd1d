import { describe, expect, it } from "vitest";
import { isJsonMediaType } from "../../src/api/media-type.js";
import { parseRequestTarget } from "../../src/api/request-target.js";
import { errorOf } from "./helpers.js";

describe("parseRequestTarget", () => {
  it("splits path and query, decoding the path", () => {
    const target = parseRequestTarget("/v1/changes/c42?state=pending&limit=10&x=a%20b+c");
    expect(target.path).toBe("/v1/changes/c42");
    expect(Object.fromEntries(target.query)).toEqual({ state: "pending", limit: "10", x: "a b c" });
    expect(parseRequestTarget("/").path).toBe("/");
    expect(parseRequestTarget("/v1/changes/").path).toBe("/v1/changes/");
    expect(parseRequestTarget("/v1/a%20b").path).toBe("/v1/a b");
  });

  it.each([
    "http://127.0.0.1:7878/v1/changes",
    "HTTPS://example.com/",
    "127.0.0.1:7878",
    "*",
    "",
    "v1/changes",
    "/v1/../etc/passwd",
    "/v1/..",
    "/v1/./changes",
    "/v1/%2e%2e/x",
    "/v1/%2E./x",
    "/v1/a%2Fb",
    "/v1/a%2fb",
    "/v1/a%5Cb",
    "/v1/a\\b",
    "/v1/a%00b",
    "/v1/a\u0000b",
    "/v1/a%0Ab",
    "/v1/a%7Fb",
    "/v1/a%zz",
    "/v1/a%",
    "/v1/%C0%AF",
    "//v1/changes",
    "/v1//changes",
    "/v1/a b",
    "/v1/é",
    "/v1/x#fragment",
  ])("refuses %j with 400", (target) => {
    expect(errorOf(() => parseRequestTarget(target)).code).toBe("IC_API_BAD_REQUEST");
  });
});

describe("isJsonMediaType", () => {
  it.each([
    "application/json",
    "Application/JSON",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    'application/json; charset="utf-8"',
  ])("accepts %j", (type) => {
    expect(isJsonMediaType(type)).toBe(true);
  });

  it.each([
    undefined,
    "",
    "text/plain",
    "application/jsonx",
    "application/json-patch+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "application/json; charset=utf-8; extra=1",
    "application/json; boundary=x",
  ])("refuses %j", (type) => {
    expect(isJsonMediaType(type)).toBe(false);
  });
});
