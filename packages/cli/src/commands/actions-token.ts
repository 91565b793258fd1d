import { CliError } from "../errors.js";

const MAX_BODY = 64 * 1024;
const TIMEOUT_MS = 15_000;

function loopback(url: URL): boolean {
  return url.hostname === "127.0.0.1" || url.hostname === "[::1]" || url.hostname === "localhost";
}

/**
 * The OIDC token a GitHub Actions job gets for Sigstore (audience `sigstore`), as cosign fetches it:
 * only with `permissions: id-token: write`, which sets the two variables. HTTPS only (plain HTTP only on
 * loopback, for tests), bounded in size and time, the bearer token never sent across a redirect.
 */
export async function githubActionsIdToken(
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (requestUrl === undefined || requestToken === undefined || requestUrl === "" || requestToken === "") {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new CliError("IC_USAGE", "ACTIONS_ID_TOKEN_REQUEST_URL is not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback(url))) {
    throw new CliError(
      "IC_NETWORK_INSECURE",
      `ACTIONS_ID_TOKEN_REQUEST_URL must be https, not ${url.protocol}`,
    );
  }
  url.searchParams.set("audience", "sigstore");
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `bearer ${requestToken}`, accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (cause) {
    throw new CliError(
      "IC_NETWORK",
      `cannot get the GitHub Actions OIDC token from ${url.origin}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new CliError(
      "IC_NETWORK_STATUS",
      `the GitHub Actions OIDC token request answered ${response.status}; does the job have permissions: id-token: write?`,
    );
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const next = await reader?.read();
      if (next === undefined || next.done) break;
      total += next.value.length;
      if (total > MAX_BODY) {
        await reader?.cancel();
        throw new CliError(
          "IC_NETWORK_TOO_LARGE",
          `the GitHub Actions OIDC token answer is larger than ${MAX_BODY} bytes`,
        );
      }
      chunks.push(next.value);
    }
  } catch (cause) {
    if (cause instanceof CliError) throw cause;
    throw new CliError(
      "IC_NETWORK",
      `reading the GitHub Actions OIDC token failed: ${(cause as Error).message}`,
      { cause },
    );
  }
  let value: unknown;
  try {
    value = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== "string") {
    throw new CliError(
      "IC_NETWORK",
      "the GitHub Actions OIDC token answer is not JSON with a string `value`",
    );
  }
  return value;
}
