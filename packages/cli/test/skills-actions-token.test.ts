import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { githubActionsIdToken } from "../src/commands/actions-token.js";
import { CliError } from "../src/errors.js";

/** A stand-in for GitHub's token endpoint on loopback, shaped like the real one, or hostile. */
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token?api-version=2.0`;
}
const env = (url: string) => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: url,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-secret",
});

async function failure(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CliError);
  return error as CliError;
}

describe("the GitHub Actions OIDC token for skills sign", () => {
  it("asks for audience sigstore with the runner's bearer token and returns the value", async () => {
    const seen: { url?: string | undefined; authorization?: string | undefined } = {};
    const url = await serve((req, res) => {
      seen.url = req.url;
      seen.authorization = req.headers.authorization;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: "a.b.c" }));
    });
    expect(await githubActionsIdToken(env(url))).toBe("a.b.c");
    expect(seen.url).toBe("/token?api-version=2.0&audience=sigstore");
    expect(seen.authorization).toBe("bearer runner-secret");
    expect(await githubActionsIdToken({})).toBeUndefined();
  });

  it("refuses a refusal, an endless answer, a redirect (the bearer token is not sent on), and non-JSON", async () => {
    expect(
      (await failure(githubActionsIdToken(env(await serve((_q, r) => r.writeHead(403).end()))))).code,
    ).toBe("IC_NETWORK_STATUS");
    const endless = await serve((_q, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const write = () => {
        while (res.write(chunk)) {}
        res.once("drain", write);
      };
      write();
    });
    expect((await failure(githubActionsIdToken(env(endless)))).code).toBe("IC_NETWORK_TOO_LARGE");
    let followed = false;
    const target = await serve((_q, res) => {
      followed = true;
      res.end("{}");
    });
    const redirecting = await serve((_q, res) => res.writeHead(302, { location: target }).end());
    expect((await failure(githubActionsIdToken(env(redirecting)))).code).toBe("IC_NETWORK");
    expect(followed).toBe(false);
    const html = await serve((_q, res) => res.writeHead(200).end("<html>"));
    expect((await failure(githubActionsIdToken(env(html)))).code).toBe("IC_NETWORK");
  });

  it("refuses plain http anywhere but loopback, before dialling", async () => {
    const error = await failure(githubActionsIdToken(env("http://token.example.invalid/x?a=1")));
    expect(error.code).toBe("IC_NETWORK_INSECURE");
  });
});
