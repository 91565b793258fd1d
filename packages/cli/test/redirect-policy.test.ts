import { describe, expect, it } from "vitest";
import { CliError } from "../src/errors.js";
import { assertRedirectAllowed, assertSecureBase, isLoopbackHost } from "../src/upgrade/redirect-policy.js";

const code = (run: () => void) => {
  try {
    run();
    return "allowed";
  } catch (error) {
    return error instanceof CliError ? error.code : String(error);
  }
};

describe("the redirect policy of release downloads", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["[::1]", true],
    ["localhost", true],
    ["127.0.0.1.example.com", false],
    ["localhost.example.com", false],
    ["0.0.0.0", false],
    ["10.0.0.1", false],
    ["[::ffff:127.0.0.1]", false],
    ["example.com", false],
  ])("%s is loopback: %s", (host, expected) => expect(isLoopbackHost(host)).toBe(expected));

  it("takes https bases anywhere and http bases only on loopback", () => {
    expect(code(() => assertSecureBase(new URL("https://github.com/o/r/releases")))).toBe("allowed");
    expect(code(() => assertSecureBase(new URL("http://127.0.0.1:8080/releases")))).toBe("allowed");
    expect(code(() => assertSecureBase(new URL("http://github.com/o/r/releases")))).toBe(
      "IC_NETWORK_INSECURE",
    );
    expect(code(() => assertSecureBase(new URL("ftp://127.0.0.1/releases")))).toBe("IC_NETWORK_INSECURE");
  });

  const github = new URL("https://github.com/o/r/releases");
  const from = new URL("https://github.com/o/r/releases/download/v1.0.0/SHA256SUMS");
  const local = new URL("http://127.0.0.1:8080/releases");
  const localFrom = new URL("http://127.0.0.1:8080/releases/download/v1.0.0/SHA256SUMS");
  it.each([
    [github, from, "https://objects.githubusercontent.com/x?sig=1", "allowed"],
    [github, from, "https://127.0.0.1/x", "allowed"],
    [github, from, "http://objects.githubusercontent.com/x", "IC_NETWORK_REDIRECT_REFUSED"],
    [github, from, "http://127.0.0.1/x", "IC_NETWORK_REDIRECT_REFUSED"],
    [github, from, "file:///etc/passwd", "IC_NETWORK_REDIRECT_REFUSED"],
    [github, from, "https://user:secret@objects.githubusercontent.com/x", "IC_NETWORK_REDIRECT_REFUSED"],
    [local, localFrom, "http://127.0.0.1:9090/x", "allowed"],
    [local, localFrom, "https://[::1]:9090/x", "allowed"],
    [local, localFrom, "http://localhost/x", "allowed"],
    [local, localFrom, "http://mirror.example.com/x", "IC_NETWORK_REDIRECT_REFUSED"],
    [local, localFrom, "https://mirror.example.com/x", "IC_NETWORK_REDIRECT_REFUSED"],
    [local, localFrom, "http://127.0.0.1.nip.io/x", "IC_NETWORK_REDIRECT_REFUSED"],
  ])("from base %s: %s → %s is %s", (base, source, to, expected) =>
    expect(code(() => assertRedirectAllowed(base, source, new URL(to)))).toBe(expected),
  );
});
