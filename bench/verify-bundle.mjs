#!/usr/bin/env node
// Bundle verification throughput in one process: `ironclaw verify-bundle`'s library path
// (parseBundleDocument + verifySignature: strict shape checks, identity policy, Fulcio extensions)
// against sigstore-js called the plain way (bundleFromJSON + toSignedEntity + Verifier.verify with a
// SAN/issuer policy), over the same bundles minted by the local Sigstore instance, in the same run.
//
//   npm run bench:verify-bundle                  # 1,000 bundles, 3 rounds
//   BENCH_BUNDLES=200 BENCH_ROUNDS=5 npm run bench:verify-bundle
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { githubWorkflowIdentity, LocalSigstore } from "../packages/sigstore-local/dist/index.js";
import {
  artifactFromBytes,
  exactly,
  parseBundleDocument,
  parseTrustedRoot,
  verifySignature,
} from "../packages/verify/dist/index.js";

const count = Number(process.env.BENCH_BUNDLES ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const IDENTITY = "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3";
const ISSUER = "https://token.actions.githubusercontent.com";

const sigstore = await LocalSigstore.start();
const identity = githubWorkflowIdentity({
  repository: "acme/tool",
  ref: "refs/tags/v1.2.3",
  sha: "0".repeat(40),
});
console.log(`minting ${count} bundles with the local Sigstore instance…`);
const samples = [];
for (let start = 0; start < count; start += 25) {
  const batch = Array.from({ length: Math.min(25, count - start) }, async (_, offset) => {
    const artifact = Buffer.from(`SHA256SUMS of release ${start + offset}\n`);
    const bundle = await sigstore.signMessage(artifact, identity);
    return { artifact, text: Buffer.from(JSON.stringify(bundle)) };
  });
  samples.push(...(await Promise.all(batch)));
}
const rootJson = sigstore.trustedRoot;
await sigstore.stop();

const ours = (() => {
  const trustedRoot = parseTrustedRoot(Buffer.from(JSON.stringify(rootJson)), "bench");
  const signer = {
    kind: "certificate",
    identity: { subjectAlternativeName: exactly(IDENTITY, "identity"), issuer: exactly(ISSUER, "issuer") },
  };
  return ({ artifact, text }) =>
    verifySignature(parseBundleDocument(text), artifactFromBytes(artifact), { trustedRoot, signer });
})();

const plain = (() => {
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(rootJson)));
  const policy = { subjectAlternativeName: IDENTITY, extensions: { issuer: ISSUER } };
  return ({ artifact, text }) =>
    verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(text.toString("utf8"))), artifact), policy);
})();

function timeAll(verify) {
  const start = process.hrtime.bigint();
  for (const sample of samples) verify(sample);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

// sigstore-js alone first: the first ironclaw verification installs its DER encoder into the
// @sigstore/core both share (see packages/verify/src/sigstore/der-encoding.ts), and after that
// sigstore-js runs with it too (the third line). Each path is warmed (JIT, lazy module state) first.
const results = { "sigstore-js": [], ironclaw: [], "sigstore-js + ironclaw's DER encoder": [] };
for (const [name, verify] of [
  ["sigstore-js", plain],
  ["ironclaw", ours],
  ["sigstore-js + ironclaw's DER encoder", plain],
]) {
  timeAll(verify);
  for (let round = 0; round < rounds; round++) results[name].push(timeAll(verify));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rate = (name) => count / median(results[name]);
console.log(
  `verify-bundle throughput, ${count} bundles in one process, median of ${rounds} rounds (node ${process.version})`,
);
for (const name of Object.keys(results)) {
  console.log(
    `  ${name.padEnd(38)} ${median(results[name]).toFixed(3)} s  ${rate(name).toFixed(0).padStart(6)} bundles/s`,
  );
}
console.log(`  ironclaw / sigstore-js = ${(rate("ironclaw") / rate("sigstore-js")).toFixed(2)}`);
