// What a bench's built release set was made from: HEAD and a digest of the uncommitted changes to the
// packages and the lock file. A bench rebuilds its set whenever this differs, so it measures this code.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";

export function treeState(root) {
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const diff = spawnSync("git", ["diff", "HEAD", "--", "packages", "package-lock.json"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 << 20,
  }).stdout;
  return `${head} ${createHash("sha256").update(diff).digest("hex")}`;
}
