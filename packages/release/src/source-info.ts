import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** What a build is derived from: a commit, its time, and the version being released. */
export interface SourceInfo {
  readonly root: string;
  readonly version: string;
  readonly commit: string;
  /** SOURCE_DATE_EPOCH when set, else the commit time: never the clock. */
  readonly sourceDateEpoch: number;
  /** Uncommitted changes in the tree the build read. */
  readonly dirty: boolean;
}

const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

function git(root: string, args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export function readSourceInfo(
  root: string,
  options: { version?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): SourceInfo {
  const env = options.env ?? process.env;
  const version =
    options.version ??
    (JSON.parse(readFileSync(join(root, "packages", "cli", "package.json"), "utf8")) as { version: string })
      .version;
  if (!VERSION.test(version)) throw new Error(`the version ${JSON.stringify(version)} is not X.Y.Z`);
  const commit = git(root, ["rev-parse", "HEAD"]);
  const epochText = env.SOURCE_DATE_EPOCH ?? git(root, ["log", "-1", "--format=%ct", "HEAD"]);
  if (!/^\d+$/.test(epochText))
    throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not ${JSON.stringify(epochText)}`);
  // Untracked files count: an uncommitted install.sh would otherwise ship in a release of a commit without it.
  const dirty = git(root, ["status", "--porcelain", "--untracked-files=normal"]).length > 0;
  return { root, version, commit, sourceDateEpoch: Number(epochText), dirty };
}
