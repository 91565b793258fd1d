import { RELEASE_TAG } from "@ironclaw/verify/release";
import { CliError } from "../errors.js";
import { type Fetched, fetchBody, type HttpOptions, openFollowing, quoted } from "./http.js";

/** A tag, or a static mirror's one-line answer: anything longer is not a release server's. */
export const MAX_LATEST_BYTES = 64 * 1024;

/**
 * DESIGN §2: `<base>/latest` redirects to `<base>/tag/<tag>` (GitHub) or answers the tag as text (a
 * static mirror). Redirects are judged and counted like any download's, the text is bounded while it
 * is read, and the tag must look like a release tag: it names files to fetch, so it is input to distrust.
 */
export async function latestTag(base: URL, options: HttpOptions): Promise<{ tag: string; fetched: Fetched }> {
  const url = new URL("latest", withSlash(base));
  const opened = await openFollowing(url, base, options, (next) => tagFromUrl(next, base));
  if ("intercepted" in opened) {
    return {
      tag: checkTag(opened.intercepted, opened.finalUrl.href),
      fetched: { url: url.href, finalUrl: opened.finalUrl.href, bytes: 0 },
    };
  }
  const { body, fetched } = await fetchBody(opened, url, { ...options, maxBytes: MAX_LATEST_BYTES });
  return { tag: checkTag(body.toString("utf8").trim(), fetched.finalUrl), fetched };
}

function withSlash(base: URL): URL {
  return base.href.endsWith("/") ? base : new URL(`${base.href}/`);
}

function tagFromUrl(url: URL, base: URL): string | undefined {
  const prefix = `${withSlash(base).pathname}tag/`;
  if (url.origin !== base.origin || !url.pathname.startsWith(prefix)) return undefined;
  try {
    return decodeURIComponent(url.pathname.slice(prefix.length));
  } catch {
    return url.pathname.slice(prefix.length);
  }
}

function checkTag(tag: string, where: string): string {
  if (!RELEASE_TAG.test(tag)) {
    throw new CliError(
      "IC_UPGRADE_VERIFICATION",
      `the release server named the latest release ${quoted(tag.slice(0, 80))} (at ${where}); expected vX.Y.Z`,
    );
  }
  return tag;
}

export function assetUrl(base: URL, tag: string, asset: string): URL {
  return new URL(`download/${encodeURIComponent(tag)}/${encodeURIComponent(asset)}`, withSlash(base));
}
