#!/usr/bin/env node
// Start-up of `ironclaw` as scripts and CI call it, paired in each round with `node -e 0` started
// the same way, so a ratio compares runs made under the same load; the verdict is the median of
// each round's ratio. Contenders: the node bundle (ironclaw.cjs), the standalone executable and the
// dev checkout (bin/ironclaw.js). Commands: --version, checksums verify of a small release, and
// verify-bundle of SHA256SUMS. Targets (issue 20): --version <= 1.2x, checksums verify <= 1.35x,
// verify-bundle <= 1.5x for the bundle and the executable; the dev checkout within 1.5x of the bundle.
// NODE_EXTRA_CA_CERTS is left out, as on a machine without a proxy CA (Node reads it at every start).
// The released script keeps a V8 code cache per user (README): it is written by a command's first run
// and used from then on, so the medians are warm figures; under CI, or with IRONCLAW_CODE_CACHE=off,
// there is none, and the figures are those of every run.
//
//   npm run bench:startup                    # (re)builds bench/out/startup from this tree, 9 rounds
//   BENCH_ROUNDS=15 npm run bench:startup
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { treeState } from "./tree-state.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const out = join(root, "bench", "out", "startup");
const release = join(out, "release");
const repository = "acme/ironclaw-bench";
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== "NODE_EXTRA_CA_CERTS"),
);

function run(command, args, options = {}) {
  const started = process.hrtime.bigint();
  const child = spawnSync(command, args, { encoding: "utf8", env, maxBuffer: 16 << 20, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${child.status}):\n${child.stderr}${child.stdout}`);
  return seconds;
}

// The release set is rebuilt whenever the tree changed, so what is measured is this code.
const builtFrom = join(out, ".built-from");
const tree = treeState(root);
if (!existsSync(builtFrom) || readFileSync(builtFrom, "utf8") !== tree) {
  console.log(`building a release:local set (node, linux_amd64) into ${release} from this tree…`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const args = ["--out", release, "--repo", repository, "--targets", "node,linux_amd64", "--allow-dirty"];
  run(process.execPath, [join(root, "scripts", "release-local.mjs"), ...args]);
  for (const [archive, dir] of [
    ["ironclaw_0.1.0_node.tar.gz", "node"],
    ["ironclaw_0.1.0_linux_amd64.tar.gz", "linux"],
  ]) {
    mkdirSync(join(out, dir));
    run("tar", ["-xzf", join(release, archive), "-C", join(out, dir)]);
  }
  // A small release to check: three files and their SHA256SUMS.
  const small = join(out, "small");
  mkdirSync(small);
  const lines = ["a.txt", "b.bin", "c.json"].map((name, i) => {
    const bytes = Buffer.alloc(1024 * (i + 1), name);
    writeFileSync(join(small, name), bytes);
    return `${createHash("sha256").update(bytes).digest("hex")}  ${name}`;
  });
  writeFileSync(join(small, "SHA256SUMS"), `${lines.join("\n")}\n`);
  writeFileSync(builtFrom, tree);
}

const contenders = [
  ["node bundle", process.execPath, [join(out, "node", "ironclaw.cjs")]],
  ["standalone executable", join(out, "linux", "ironclaw"), []],
  ["dev checkout", process.execPath, [join(root, "packages", "cli", "bin", "ironclaw.js")]],
];
const commands = [
  ["--version", ["--version"], 1.2],
  ["checksums verify (small release)", ["checksums", "verify", "--dir", join(out, "small")], 1.35],
  [
    "verify-bundle",
    [
      "verify-bundle",
      "--bundle",
      join(release, "SHA256SUMS.sigstore.json"),
      "--certificate-identity",
      `https://github.com/${repository}/.github/workflows/release.yml@refs/tags/v0.1.0`,
      "--certificate-oidc-issuer",
      "https://token.actions.githubusercontent.com",
      "--trusted-root",
      join(release, "trusted_root.json"),
      join(release, "SHA256SUMS"),
    ],
    1.5,
  ],
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ratios = new Map();
const floor = [];
for (let round = 0; round < rounds; round++) {
  for (const [command, args] of commands) {
    for (const [name, program, prefix] of contenders) {
      const baseline = run(process.execPath, ["-e", "0"]);
      const seconds = run(program, [...prefix, ...args]);
      floor.push(baseline);
      const key = `${name}\t${command}`;
      ratios.set(key, [...(ratios.get(key) ?? []), seconds / baseline]);
    }
  }
}

const cache =
  env.IRONCLAW_CODE_CACHE === "off" || (env.CI ?? "") !== ""
    ? "off"
    : "on, warm after each command's first run";
console.log(
  `\nstart-up against node -e 0 (median ${(median(floor) * 1000).toFixed(1)} ms), median of ${rounds} paired rounds, code cache ${cache}\n`,
);
console.log("contender               command                            ratio   target");
let missed = 0;
for (const [command, , target] of commands) {
  for (const [name] of contenders) {
    const ratio = median(ratios.get(`${name}\t${command}`));
    const judged = name === "dev checkout" ? undefined : target;
    const verdict = judged === undefined ? "" : ratio <= judged ? `<= ${judged}  ok` : `<= ${judged}  MISSED`;
    if (judged !== undefined && ratio > judged) missed += 1;
    console.log(`${name.padEnd(24)}${command.padEnd(35)}${ratio.toFixed(2).padStart(5)}x  ${verdict}`);
  }
  const dev = median(ratios.get(`dev checkout\t${command}`));
  const bundle = median(ratios.get(`node bundle\t${command}`));
  const within = dev / bundle;
  if (within > 1.5) missed += 1;
  console.log(
    `${"".padEnd(24)}${"dev checkout / node bundle".padEnd(35)}${within.toFixed(2).padStart(5)}x  <= 1.5  ${within <= 1.5 ? "ok" : "MISSED"}`,
  );
}
console.log(missed === 0 ? "\nevery target met" : `\n${missed} target(s) missed`);
