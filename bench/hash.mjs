#!/usr/bin/env node
// Hash throughput: `ironclaw checksums verify` against `openssl dgst -sha256` and coreutils
// `sha256sum`, on the same file from the page cache, in the same run. Start-up is included for
// every tool: each run is a whole process, as a user would run it.
//
//   npm run bench:hash                         # 1 GiB, 5 rounds
//   BENCH_HASH_MIB=256 BENCH_ROUNDS=3 npm run bench:hash
import { spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const TARGET_RATIO = 0.85;
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");
const mib = Number(process.env.BENCH_HASH_MIB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const bytes = mib * 1024 * 1024;
const dir = join(root, "bench", "out");
const file = join(dir, `hash-${mib}m.bin`);

function ensureInput() {
  mkdirSync(dir, { recursive: true });
  if (existsSync(file) && statSync(file).size === bytes) return;
  const fd = openSync(file, "w");
  const chunk = Buffer.allocUnsafe(64 * 1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

function timed(command, args) {
  const start = process.hrtime.bigint();
  const child = spawnSync(command, args, { cwd: dir, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (child.error) throw new Error(`${command} could not run: ${child.error.message}`);
  return { seconds, status: child.status, stdout: child.stdout, stderr: child.stderr };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

ensureInput();
const base = file.slice(dir.length + 1);
const reference = timed("openssl", ["dgst", "-sha256", "-r", base]); // Also warms the page cache.
if (reference.status !== 0) throw new Error(`openssl failed: ${reference.stderr}`);
const digest = reference.stdout.split(" ")[0];
writeFileSync(join(dir, "SHA256SUMS"), `${digest}  ${base}\n`);

const tools = {
  ironclaw: [process.execPath, [bin, "checksums", "verify", "--dir", dir, base]],
  openssl: ["openssl", ["dgst", "-sha256", base]],
  sha256sum: ["sha256sum", [base]],
};
const times = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (const [name, [command, args]] of Object.entries(tools)) {
    const run = timed(command, args);
    if (run.status !== 0) throw new Error(`${name} failed (exit ${run.status}): ${run.stderr}${run.stdout}`);
    if (name !== "ironclaw" && !run.stdout.includes(digest))
      throw new Error(`${name} printed another digest`);
    times[name].push(run.seconds);
  }
}

const seconds = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
const throughput = (name) => mib / seconds[name];
console.log(
  `hash throughput, ${mib} MiB from the page cache, median of ${rounds} rounds (start-up included)`,
);
console.log(
  `node ${process.version}, ${spawnSync("openssl", ["version"], { encoding: "utf8" }).stdout.trim()}`,
);
for (const name of Object.keys(tools)) {
  console.log(
    `  ${name.padEnd(10)} ${seconds[name].toFixed(3)} s  ${throughput(name).toFixed(0).padStart(5)} MiB/s`,
  );
}
const ratioOpenssl = throughput("ironclaw") / throughput("openssl");
const ratioSha256sum = throughput("ironclaw") / throughput("sha256sum");
console.log(`  ironclaw / openssl   = ${ratioOpenssl.toFixed(2)}  (target >= ${TARGET_RATIO})`);
console.log(`  ironclaw / sha256sum = ${ratioSha256sum.toFixed(2)}`);
if (ratioOpenssl < TARGET_RATIO) {
  console.log(`target NOT met: ${ratioOpenssl.toFixed(2)} < ${TARGET_RATIO}`);
  process.exitCode = 1;
} else {
  console.log("target met");
}
