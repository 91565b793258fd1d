import { afterEach, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, startConsole } from "../src/index.js";
import { MAX_LIVE_VIEWS } from "../src/live-views.js";
import { type Harness, OPERATOR, startHarness, withAgent } from "./harness.js";

/** The console's HTTP edge without a browser: what a hostile client can send, and what it gets. */
const open: Harness[] = [];
afterEach(async () => {
  for (const harness of open.splice(0)) await harness.close();
});
async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const started = await startHarness(options);
  open.push(started);
  return started;
}

async function signIn(h: Harness, token: string, origin = h.console.url) {
  const response = await fetch(`${h.console.url}/session`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify({ token }),
  });
  const body = (await response.json()) as { csrf?: string; error?: { code: string } };
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { status: response.status, body, cookie, setCookie: response.headers.get("set-cookie") };
}

function post(h: Harness, path: string, body: unknown, headers: Record<string, string>) {
  return fetch(`${h.console.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("console HTTP edge", () => {
  it("refuses to listen anywhere the API may not", async () => {
    const h = await harness();
    const base = {
      port: 0,
      gateway: h.plane.gateway,
      stateDir: h.dir,
      authenticate: h.plane.principals.authenticate,
    };
    await expect(startConsole({ ...base, host: "0.0.0.0", dev: true })).rejects.toMatchObject({
      code: "IC_API_BIND_REFUSED",
    });
    await expect(startConsole({ ...base, host: "127.0.0.1", dev: false })).rejects.toMatchObject({
      code: "IC_API_BIND_REFUSED",
    });
    await expect(startConsole({ ...base, host: "192.168.1.10", dev: true })).rejects.toMatchObject({
      code: "IC_API_BIND_REFUSED",
    });
  });

  it("serves its page with a strict CSP and no inline script or style", async () => {
    const h = await harness();
    const response = await fetch(`${h.console.url}/`);
    expect(response.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\bstyle=|\bon[a-z]+=/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("refuses a Host it does not serve (DNS rebinding)", async () => {
    const h = await harness();
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(h.console.url);
      request(
        { host: url.hostname, port: url.port, path: "/", headers: { host: "evil.example:80" } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      )
        .on("error", reject)
        .end();
    });
    expect(status).toBe(421);
    // HTTP/1.0 without a Host header at all.
    const { connect } = await import("node:net");
    const url = new URL(h.console.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.end("GET / HTTP/1.0\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString();
      });
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 421 /);
  });

  it("exchanges a token once for an HttpOnly SameSite=Strict cookie; refuses wrong tokens, agents and other origins", async () => {
    const h = await harness();
    expect((await signIn(h, "ic_operator_nope")).status).toBe(401);
    expect((await signIn(h, h.operatorToken, "http://127.0.0.1:1")).status).toBe(403);
    await h.plane.principals.addAgent("builder");
    const { readFile } = await import("node:fs/promises");
    const agentToken = (await readFile(`${h.dir}/tokens/agent-builder.token`, "utf8")).trim();
    expect((await signIn(h, agentToken)).status).toBe(401);
    const ok = await signIn(h, h.operatorToken);
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(
      /^ic_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/,
    );
    expect(JSON.stringify(ok.body)).not.toContain(h.operatorToken);
    expect(h.events.map((e) => e.reason)).toEqual([
      "console: IC_CONSOLE_SIGN_IN unknown token",
      "console: IC_CONSOLE_CROSS_ORIGIN",
      "console: IC_CONSOLE_SIGN_IN agent token",
    ]);
  });

  it("decides only with the session's CSRF token and the console's Origin, and only the digest of the change", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { cookie, body } = await signIn(h, h.operatorToken);
    const csrf = body.csrf as string;
    const path = `/api/v1/changes/${change.id}/approve`;
    const digest = { digest: change.digest };
    const noCsrf = await post(h, path, digest, { cookie, origin: h.console.url });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as { error: { code: string } }).error.code).toBe("IC_CONSOLE_CSRF");
    const wrongCsrf = await post(h, path, digest, {
      cookie,
      origin: h.console.url,
      "x-csrf-token": "x".repeat(43),
    });
    expect(wrongCsrf.status).toBe(403);
    const crossOrigin = await post(h, path, digest, {
      cookie,
      origin: "http://127.0.0.1:9",
      "x-csrf-token": csrf,
    });
    expect(crossOrigin.status).toBe(403);
    const noOrigin = await post(h, path, digest, { cookie, "x-csrf-token": csrf });
    expect(noOrigin.status).toBe(403);
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
    const other = `sha256:${"0".repeat(64)}`;
    const wrong = await post(
      h,
      path,
      { digest: other },
      { cookie, origin: h.console.url, "x-csrf-token": csrf },
    );
    expect(wrong.status).toBe(409);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe(
      "IC_CHANGE_DIGEST_MISMATCH",
    );
    const right = await post(h, path, digest, { cookie, origin: h.console.url, "x-csrf-token": csrf });
    expect(right.status).toBe(200);
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("applied");
  });

  it("takes only small JSON bodies, and no actions but decisions and messages", async () => {
    const h = await harness();
    const change = await h.submit("create_agent", { agent: "builder" });
    const { cookie, body } = await signIn(h, h.operatorToken);
    const headers = { cookie, origin: h.console.url, "x-csrf-token": body.csrf as string };
    const path = `/api/v1/changes/${change.id}/approve`;
    const form = await fetch(`${h.console.url}${path}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      body: `digest=${change.digest}`,
    });
    expect(form.status).toBe(415);
    const huge = await post(h, path, { digest: change.digest, pad: "x".repeat(20_000) }, headers);
    expect(huge.status).toBe(413);
    const extra = await post(h, path, { digest: change.digest, constructor: "x" }, headers);
    expect(extra.status).toBe(400);
    for (const other of [
      `/api/v1/changes/${change.id}/retry`,
      "/api/v1/changes",
      `/api/v1/changes/${change.id}/cancel`,
    ]) {
      expect((await post(h, other, {}, headers)).status).toBe(404);
    }
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
  });

  it("lets a viewer read everything and decide nothing", async () => {
    const h = await harness();
    await withAgent(h, { name: "helper", instructions: "be brief" });
    const change = await h.submit("persona", {
      agent: "builder",
      persona: { name: "helper", instructions: "be kind" },
    });
    const { cookie, body } = await signIn(h, h.viewerToken);
    const view = await fetch(`${h.console.url}/api/view`, { headers: { cookie } });
    expect(view.status).toBe(200);
    expect(((await view.json()) as { pending: { id: string }[] }).pending.map((c) => c.id)).toEqual([
      change.id,
    ]);
    for (const action of ["approve", "reject"]) {
      const response = await post(
        h,
        `/api/v1/changes/${change.id}/${action}`,
        action === "approve" ? { digest: change.digest } : { reason: "no" },
        { cookie, origin: h.console.url, "x-csrf-token": body.csrf as string },
      );
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("IC_API_FORBIDDEN");
    }
    expect(h.plane.gateway.show(OPERATOR, change.id).state).toBe("pending");
  });

  it("behind a TLS proxy, accepts only the public https origin and marks the cookie Secure", async () => {
    const publicOrigin = "https://console.tail1234.ts.net";
    const h = await harness({ publicOrigin });
    expect((await signIn(h, h.operatorToken)).status).toBe(403);
    const ok = await signIn(h, h.operatorToken, publicOrigin);
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const base = {
      host: "127.0.0.1",
      port: 0,
      dev: true,
      gateway: h.plane.gateway,
      stateDir: h.dir,
      authenticate: h.plane.principals.authenticate,
    };
    for (const bad of ["http://console.tail1234.ts.net", "https://console.tail1234.ts.net/path", "console"]) {
      await expect(startConsole({ ...base, publicOrigin: bad })).rejects.toMatchObject({
        code: "IC_API_BIND_REFUSED",
      });
    }
  });

  it("serves at most 32 live views at once", async () => {
    const h = await harness();
    const { cookie } = await signIn(h, h.operatorToken);
    const controller = new AbortController();
    try {
      const streams = await Promise.all(
        Array.from({ length: MAX_LIVE_VIEWS }, () =>
          fetch(`${h.console.url}/events`, { headers: { cookie }, signal: controller.signal }),
        ),
      );
      expect(streams.map((r) => r.status)).toEqual(streams.map(() => 200));
      expect(streams[0]?.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
      const one = await fetch(`${h.console.url}/events`, { headers: { cookie }, signal: controller.signal });
      expect(one.status).toBe(503);
    } finally {
      controller.abort();
    }
  });

  it("ends a session at sign-out and at expiry", async () => {
    let clock = 1_000_000;
    const h = await harness({ sessionTtlMs: 60_000, now: () => clock });
    const first = await signIn(h, h.operatorToken);
    expect((await fetch(`${h.console.url}/api/view`, { headers: { cookie: first.cookie } })).status).toBe(
      200,
    );
    clock += 60_001;
    expect((await fetch(`${h.console.url}/api/view`, { headers: { cookie: first.cookie } })).status).toBe(
      401,
    );
    const second = await signIn(h, h.operatorToken);
    const out = await post(
      h,
      "/session/sign-out",
      {},
      {
        cookie: second.cookie,
        origin: h.console.url,
        "x-csrf-token": second.body.csrf as string,
      },
    );
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await fetch(`${h.console.url}/api/view`, { headers: { cookie: second.cookie } })).status).toBe(
      401,
    );
  });
});
