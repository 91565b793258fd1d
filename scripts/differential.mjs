#!/usr/bin/env node
// Runs the real-world corpus (test/fixtures/real-world/corpus.json) through ironclaw's library (the
// build: run `npm run build` first) and through sigstore-js (@sigstore/verify, used directly), and
// prints ironclaw / sigstore-js / expected side by side. sigstore-js is given the same root,
// artifact and identity; gh-style policies (owner, signer workflow) are ironclaw's and gh's only,
// so for those cases sigstore-js checks the signature alone ("sig only").
import { createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import seeds from "@sigstore/tuf/seeds.json" with { type: "json" };
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { artifactInput, REAL_WORLD, read, runCase, trustedRootDocument } from "../test/corpus/run-case.mjs";

const EMBEDDED = JSON.parse(
  Buffer.from(seeds["https://tuf-repo-cdn.sigstore.dev"].targets["trusted_root.json"], "base64").toString(
    "utf8",
  ),
);

// A JSON Lines root holds one root per instance: sigstore-js takes one, so each is tried in turn.
function sigstoreJs(test) {
  const outcomes = [trustedRootDocument(test.root) ?? EMBEDDED]
    .flat()
    .map((doc) => sigstoreJsUnder(test, doc));
  return outcomes.find((outcome) => !outcome.startsWith("refused")) ?? outcomes[outcomes.length - 1];
}

function sigstoreJsUnder(test, document) {
  try {
    const root = TrustedRoot.fromJSON(document);
    const keyFinder =
      typeof test.policy.key === "string"
        ? () => ({ publicKey: createPublicKey(read(test.policy.key)), validFor: () => true })
        : {};
    const text = read(test.bundle).toString("utf8");
    const lines =
      text.trim().startsWith("{") && !text.trim().includes("}\n{") ? [text] : text.trim().split("\n");
    const input = artifactInput(test);
    let results = 0;
    for (const line of lines) {
      const bundle = bundleFromJSON(JSON.parse(line));
      if (bundle.content.$case === "messageSignature" && input?.bytes === undefined)
        return "n/a (needs bytes)";
      const entity = toSignedEntity(
        bundle,
        bundle.content.$case === "messageSignature" ? input.bytes : undefined,
      );
      const policy =
        typeof test.policy.identity === "string"
          ? { subjectAlternativeName: test.policy.identity, extensions: { issuer: test.policy.issuer } }
          : undefined;
      new Verifier(toTrustMaterial(root, keyFinder)).verify(entity, policy);
      results++;
    }
    return test.mode === "attestation" ? `verified (sig only, ${results})` : "verified";
  } catch (error) {
    return `refused (${error?.code ?? error?.name ?? "error"})`;
  }
}

const { cases } = JSON.parse(readFileSync(new URL("corpus.json", REAL_WORLD), "utf8"));
const rows = cases.map((test) => {
  const ours = runCase(test);
  const theirs = sigstoreJs(test);
  const agree = ours.verdict === test.expected ? "" : ` <- differs (${test.difference ?? "UNLISTED"})`;
  return [test.id, ours.verdict, theirs, test.expected + agree];
});
const width = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), 10));
const line = (r) => `${r[0].padEnd(width[0])}  ${r[1].padEnd(width[1])}  ${r[2].padEnd(width[2])}  ${r[3]}`;
console.log(line(["case", "ironclaw", "sigstore-js", "expected (owner's verdict)"]));
for (const row of rows) console.log(line(row));
const ironclawAgrees = rows.filter((r, i) => r[1] === cases[i].expected).length;
const jsAgrees = rows.filter((r, i) => r[2].startsWith(cases[i].expected)).length;
const unlisted = rows.filter((r) => r[3].includes("UNLISTED")).length;
const falseAccepts = rows.filter((r, i) => r[1] === "verified" && cases[i].expected === "refused").length;
console.log(
  `\n${cases.length} cases: ironclaw agrees with the owner on ${ironclawAgrees}, sigstore-js on ${jsAgrees}; ` +
    `ironclaw false accepts: ${falseAccepts}; differences not in differences.json: ${unlisted}`,
);
process.exitCode = unlisted > 0 || falseAccepts > 0 ? 1 : 0;
