import { type PostJsonOptions, postJson } from "./http-client.js";
import { parseProviderJson } from "./reply.js";

/** `path` under a provider's base URL, whether or not the operator wrote it with a trailing slash. */
export function providerEndpoint(baseUrl: URL, path: string): URL {
  return new URL(`${baseUrl.pathname.replace(/\/$/, "")}${path}`, baseUrl);
}

/**
 * One call to a provider: `body` POSTed as JSON, with the provider's own headers after the content
 * type, and the 2xx answer parsed as JSON.
 */
export async function postProviderJson(options: PostJsonOptions): Promise<unknown> {
  const reply = await postJson({
    ...options,
    headers: { "content-type": "application/json", accept: "application/json", ...options.headers },
  });
  return parseProviderJson(options.provider, reply.body);
}
