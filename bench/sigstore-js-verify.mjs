#!/usr/bin/env node
// The peer side of bench/verify-release: one bundle verified with sigstore-js the plain way, in its
// own process, as a user scripting `sigstore verify` over a release would run it.
//   node bench/sigstore-js-verify.mjs BUNDLE TRUSTED_ROOT IDENTITY_REGEXP ISSUER [ARTIFACT]
import { readFileSync } from "node:fs";
import { bundleFromJSON } from "@sigstore/bundle";
import { TrustedRoot } from "@sigstore/protobuf-specs";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";

const [bundlePath, rootPath, identity, issuer, artifactPath] = process.argv.slice(2);
const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, "utf8")));
const verifier = new Verifier(
  toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(rootPath, "utf8")))),
);
const artifact = artifactPath === undefined ? undefined : readFileSync(artifactPath);
verifier.verify(toSignedEntity(bundle, artifact), {
  subjectAlternativeName: new RegExp(identity),
  extensions: { issuer },
});
