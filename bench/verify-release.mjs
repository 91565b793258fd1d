#!/usr/bin/env node
// Full verification of a release:local set, against (a) the hashing floor, `openssl dgst -sha256`
// over the same files, and (b) the peer way, `sha256sum -c` plus one sigstore-js process per
// bundle, in the same run. Target: ironclaw within 1.3x of the floor.
//
// Each round runs every contender once, back to back, so a round's ratio compares runs made under
// the same load; the verdict is the median of those ratios (the medians of the times are printed
// too). Node reads the certificates NODE_EXTRA_CA_CERTS names at every start, before any of our
// code runs; where it is set, the Node contenders run without it, as on a machine without a proxy
// CA, and the release bundle once more with it, for comparison.
//
//   npm run bench:verify-release                       # (re)builds bench/out/release from this tree, 11 rounds
//   BENCH_RELEASE_DIR=/tmp/r BENCH_ROUNDS=3 npm run bench:verify-release
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { treeState } from "./tree-state.mjs";

const TARGET = 1.3;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rounds = Number(process.env.BENCH_ROUNDS ?? 11);
const dir = process.env.BENCH_RELEASE_DIR ?? join(root, "bench", "out", "release");
const repository = "acme/ironclaw-bench";

const inherited = process.env;
const withoutExtraCa = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== "NODE_EXTRA_CA_CERTS"),
);

function run(command, args, options = {}) {
  const started = process.hrtime.bigint();
  const child = spawnSync(command, args, {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    env: withoutExtraCa,
    ...options,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${child.status}):\n${child.stderr}${child.stdout}`);
  return { seconds, stdout: child.stdout };
}

const builtFrom = join(dir, ".built-from");
const tree = treeState(root);
if (
  process.env.BENCH_RELEASE_DIR === undefined &&
  (!existsSync(builtFrom) || readFileSync(builtFrom, "utf8") !== tree)
) {
  rmSync(dir, { recursive: true, force: true });
}
if (!existsSync(join(dir, "SHA256SUMS"))) {
  console.log(`building a release:local set into ${dir} from this tree…`);
  rmSync(dir, { recursive: true, force: true });
  run(process.execPath, [
    join(root, "scripts", "release-local.mjs"),
    "--out",
    dir,
    "--repo",
    repository,
    "--allow-dirty",
  ]);
  writeFileSync(builtFrom, tree);
}
const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
const names = sums
  .trim()
  .split("\n")
  .map((line) => line.slice(66));
const version = /^ironclaw_(.+)\.intoto\.jsonl$/.exec(
  names.find((name) => name.endsWith(".intoto.jsonl")) ?? "",
)?.[1];
const identityRegexp = `^https://github\\.com/${repository}/\\.github/workflows/release\\.yml@refs/tags/v`;
const issuer = "https://token.actions.githubusercontent.com";
const trustedRoot = join(dir, "trusted_root.json");

// The released bundle, as a user runs it, and the development CLI.
const scratch = join(root, "bench", "out", "verify-release-bundle");
mkdirSync(scratch, { recursive: true });
run("tar", ["-xzf", join(dir, `ironclaw_${version}_node.tar.gz`), "-C", scratch, "ironclaw.cjs"]);
const verifyArgs = ["verify", "--dir", dir, "--repo", repository, "--trusted-root", trustedRoot];
const lines = readFileSync(join(dir, `ironclaw_${version}.intoto.jsonl`), "utf8")
  .trim()
  .split("\n");
for (const [index, line] of lines.entries()) writeFileSync(join(scratch, `attestation-${index}.json`), line);

const contenders = {
  "ironclaw (release bundle)": () =>
    run(process.execPath, [join(scratch, "ironclaw.cjs"), ...verifyArgs]).seconds,
  ...(inherited.NODE_EXTRA_CA_CERTS === undefined
    ? {}
    : {
        "ironclaw, with NODE_EXTRA_CA_CERTS": () =>
          run(process.execPath, [join(scratch, "ironclaw.cjs"), ...verifyArgs], { env: inherited }).seconds,
      }),
  "ironclaw (dev checkout)": () =>
    run(process.execPath, [join(root, "packages", "cli", "bin", "ironclaw.js"), ...verifyArgs]).seconds,
  "floor: openssl dgst": () => run("openssl", ["dgst", "-sha256", ...names], { cwd: dir }).seconds,
  "peer: sha256sum -c + sigstore-js": () => {
    let total = run("sha256sum", ["-c", "--strict", "SHA256SUMS"], { cwd: dir }).seconds;
    const peer = join(root, "bench", "sigstore-js-verify.mjs");
    total += run(process.execPath, [
      peer,
      join(dir, "SHA256SUMS.sigstore.json"),
      trustedRoot,
      identityRegexp,
      issuer,
      join(dir, "SHA256SUMS"),
    ]).seconds;
    for (const index of lines.keys()) {
      total += run(process.execPath, [
        peer,
        join(scratch, `attestation-${index}.json`),
        trustedRoot,
        identityRegexp,
        issuer,
      ]).seconds;
    }
    return total;
  },
};

for (const name of names) readFileSync(join(dir, name)); // warm the page cache
const FLOOR = "floor: openssl dgst";
const times = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
for (let round = 0; round < rounds; round++)
  for (const [name, measure] of Object.entries(contenders)) times[name].push(measure());
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (name) => median(times[name].map((seconds, round) => seconds / times[FLOOR][round]));
const bytes = names.reduce((sum, name) => sum + readFileSync(join(dir, name)).length, 0);
console.log(
  `verify a release: ${names.length} files, ${(bytes / 1048576).toFixed(1)} MiB, ${lines.length} attestation bundle(s) + 1 signature, ${rounds} rounds (node ${process.version}, ${availableParallelism()} CPUs)`,
);
console.log(`  ${"".padEnd(36)} median time   median of the rounds' ratios to the floor`);
for (const name of Object.keys(contenders)) {
  console.log(`  ${name.padEnd(36)} ${median(times[name]).toFixed(3)} s     ${ratio(name).toFixed(2)}x`);
}
const ours = ratio("ironclaw (release bundle)");
console.log(
  ours <= TARGET
    ? `target met: ${ours.toFixed(2)}x <= ${TARGET}x`
    : `target NOT met: ${ours.toFixed(2)}x > ${TARGET}x`,
);
process.exitCode = ours <= TARGET ? 0 : 1;
