export * from "./attestation.js";
export * from "./checksums.js";
export * from "./errors.js";
export * from "./release.js";
export * from "./sigstore.js";
