#!/usr/bin/env node
// Runs the sigstore-conformance bundle-verification cases through the built `ironclaw verify-bundle`,
// each case twice (the artifact's path, then sha256:<hex>), and prints `N passed, M failed`.
// The corpus is read where it lives, never copied: $SIGSTORE_CONFORMANCE_DIR, or
// shared/conformance/sigstore-bundle-verify beside this checkout (or beside the checkout it was
// cloned from). Absent corpus: a loud skip, unless IRONCLAW_REQUIRE_CONFORMANCE=1 (CI), then a failure.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, "packages", "cli", "bin", "ironclaw.js");
const SUITE = join("shared", "conformance", "sigstore-bundle-verify");
const DEFAULT_IDENTITY =
  "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER = "https://token.actions.githubusercontent.com";

function originCheckout() {
  try {
    const url = execFileSync("git", ["remote", "get-url", "origin"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return isAbsolute(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

function findCorpus() {
  if (process.env.SIGSTORE_CONFORMANCE_DIR) return [resolve(process.env.SIGSTORE_CONFORMANCE_DIR)];
  const candidates = [join(root, "..", SUITE)];
  const origin = originCheckout();
  if (origin !== undefined) candidates.push(join(origin, "..", SUITE));
  return candidates;
}

const candidates = findCorpus();
const corpus = candidates.find((dir) => existsSync(join(dir, "a.txt")));
if (corpus === undefined) {
  const where = candidates.join(", ");
  if (process.env.IRONCLAW_REQUIRE_CONFORMANCE === "1") {
    console.error(
      `conformance: FAILED: the sigstore-conformance corpus is required but was not found (looked in ${where}); set SIGSTORE_CONFORMANCE_DIR`,
    );
    process.exit(1);
  }
  if (process.env.IRONCLAW_SKIP_LOG) {
    const record = {
      suite: "sigstore-conformance (npm run conformance)",
      missing: [],
      packages: [],
      reason: `no corpus in ${where}; set SIGSTORE_CONFORMANCE_DIR to sigstore-conformance's test/assets/bundle-verify`,
    };
    appendFileSync(process.env.IRONCLAW_SKIP_LOG, `${JSON.stringify(record)}\n`);
  }
  console.error("!".repeat(78));
  console.error(`!! conformance: SKIPPED: no sigstore-conformance corpus (looked in ${where}).`);
  console.error("!! Set SIGSTORE_CONFORMANCE_DIR to a checkout of sigstore-conformance's");
  console.error("!! test/assets/bundle-verify to run the 70 verification cases. CI requires them.");
  console.error("!".repeat(78));
  process.exit(0);
}
if (!existsSync(bin)) {
  console.error(`conformance: ${bin} is missing; run npm run build first`);
  process.exit(3);
}

function caseArguments(dir) {
  const file = (name) => join(dir, name);
  const args = ["verify-bundle", "--bundle", file("bundle.sigstore.json")];
  if (existsSync(file("key.pub"))) args.push("--key", file("key.pub"));
  else {
    const read = (name, fallback) =>
      existsSync(file(name)) ? readFileSync(file(name), "utf8").trim() : fallback;
    args.push("--certificate-identity", read("identity", DEFAULT_IDENTITY));
    args.push("--certificate-oidc-issuer", read("issuer", DEFAULT_ISSUER));
  }
  if (existsSync(file("trusted_root.json"))) args.push("--trusted-root", file("trusted_root.json"));
  const artifact = existsSync(file("artifact")) ? file("artifact") : join(corpus, "a.txt");
  const digest = `sha256:${createHash("sha256").update(readFileSync(artifact)).digest("hex")}`;
  return [
    { form: "path", args: [...args, artifact] },
    { form: "digest", args: [...args, digest] },
  ];
}

function run(args) {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolveRun({ code, output }));
  });
}

const cases = readdirSync(corpus)
  .filter((name) => statSync(join(corpus, name)).isDirectory())
  .sort();
const jobs = cases.flatMap((name) =>
  caseArguments(join(corpus, name)).map((form) => ({ name, shouldPass: !name.endsWith("_fail"), ...form })),
);

const failures = [];
let next = 0;
async function worker() {
  while (next < jobs.length) {
    const job = jobs[next++];
    const { code, output } = await run(job.args);
    const passed = job.shouldPass ? code === 0 : code !== 0 && code !== null;
    if (!passed) {
      failures.push(
        `${job.name} [${job.form}]: expected ${job.shouldPass ? "success" : "failure"}, exit ${code}\n    ${output.trim().replaceAll("\n", "\n    ")}`,
      );
    }
  }
}
await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, worker));

for (const failure of failures.sort()) console.log(`FAIL ${failure}`);
console.log(
  `conformance (${cases.length} cases x 2 forms, ${corpus}): ${jobs.length - failures.length} passed, ${failures.length} failed`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
