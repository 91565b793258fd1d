#!/usr/bin/env node
// node scripts/release-collect-attestations.mjs BUNDLE... OUT.intoto.jsonl
// Writes the attestation bundles actions/attest produced as JSON Lines, one bundle per line, after
// checking each is one JSON object (a malformed bundle stops the release here, not at verification).
import { readFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const out = args.pop();
if (out === undefined || args.length === 0 || !out.endsWith(".intoto.jsonl")) {
  console.error("usage: node scripts/release-collect-attestations.mjs BUNDLE... OUT.intoto.jsonl");
  process.exit(2);
}
const lines = args.map((path) => {
  const bundle = JSON.parse(readFileSync(path, "utf8"));
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle))
    throw new Error(`${path} is not a bundle`);
  return JSON.stringify(bundle);
});
writeFileSync(out, `${lines.join("\n")}\n`);
