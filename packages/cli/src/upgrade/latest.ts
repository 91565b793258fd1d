import { RELEASE_TAG } from "@ironclaw/verify/release";
import { CliError } from "../errors.js";
import { type HttpOptions, request } from "./http.js";

const MAX_REDIRECTS = 5;

/**
 * DESIGN §2: `<base>/latest` redirects to `<base>/tag/<tag>` (GitHub) or answers the tag as text (a
 * static mirror). Redirects are followed by hand, a few at most, never in a circle, and the tag must
 * look like a release tag: it names files to fetch, so it is input to distrust.
 */
export async function latestTag(base: URL, options: HttpOptions): Promise<string> {
  let url = new URL("latest", withSlash(base));
  const visited = new Set<string>();
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (visited.has(url.href))
      throw new CliError("IC_NETWORK_REDIRECTS", `the release server redirects in a loop at ${url.href}`);
    visited.add(url.href);
    const response = await request(url, options);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("location");
      if (location === null)
        throw new CliError("IC_NETWORK_STATUS", `${url.href} redirected without a Location`);
      const next = new URL(location, url);
      const tag = tagFromUrl(next, base);
      if (tag !== undefined) return checkTag(tag, next.href);
      url = next;
      continue;
    }
    if (!response.ok) throw new CliError("IC_NETWORK_STATUS", `${url.href} answered HTTP ${response.status}`);
    return checkTag((await response.text()).trim(), url.href);
  }
  throw new CliError(
    "IC_NETWORK_REDIRECTS",
    `the release server redirected more than ${MAX_REDIRECTS} times from ${base.href}latest`,
  );
}

function withSlash(base: URL): URL {
  return base.href.endsWith("/") ? base : new URL(`${base.href}/`);
}

function tagFromUrl(url: URL, base: URL): string | undefined {
  const prefix = `${withSlash(base).pathname}tag/`;
  return url.origin === base.origin && url.pathname.startsWith(prefix)
    ? decodeURIComponent(url.pathname.slice(prefix.length))
    : undefined;
}

function checkTag(tag: string, where: string): string {
  if (!RELEASE_TAG.test(tag)) {
    throw new CliError(
      "IC_UPGRADE_VERIFICATION",
      `the release server named the latest release ${JSON.stringify(tag.slice(0, 80))} (at ${where}); expected vX.Y.Z`,
    );
  }
  return tag;
}

export function assetUrl(base: URL, tag: string, asset: string): URL {
  return new URL(`download/${encodeURIComponent(tag)}/${encodeURIComponent(asset)}`, withSlash(base));
}
