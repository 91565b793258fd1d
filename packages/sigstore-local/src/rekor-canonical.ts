import { createHash, X509Certificate as NodeX509Certificate, verify } from "node:crypto";
import type { MockHandler } from "./server.js";

/**
 * @sigstore/mock's Rekor v1 logs the proposed entry as it comes. Real Rekor first checks the DSSE
 * signatures and turns `dsse` and `intoto` proposals into their canonical bodies (hashes and signatures,
 * no payload); verifiers read those bodies, and a proposed `dsse` body fails them. This wrapper does what
 * Rekor's entry types do before the mock logs the entry. Other kinds pass through unchanged.
 */
export function canonicalizingRekorHandler(inner: MockHandler): MockHandler {
  return {
    path: inner.path,
    fn: async (body) => {
      let canonical: unknown;
      try {
        canonical = canonicalize(JSON.parse(body));
      } catch (error) {
        return { statusCode: 400, response: error instanceof Error ? error.message : String(error) };
      }
      return inner.fn(canonical === undefined ? body : JSON.stringify(canonical));
    },
  };
}

type Json = Record<string, unknown>;

function canonicalize(entry: unknown): Json | undefined {
  const { kind, apiVersion, spec } = asObject(entry, "entry");
  if (kind === "dsse" && apiVersion === "0.0.1") return canonicalDsse(asObject(spec, "spec"));
  if (kind === "intoto" && apiVersion === "0.0.2") return canonicalIntoto(asObject(spec, "spec"));
  return undefined;
}

// dsse v0.0.1: the hash of the envelope as sent, the hash of the payload, each signature with its key.
function canonicalDsse(spec: Json): Json {
  const proposed = asObject(spec.proposedContent, "spec.proposedContent");
  const envelopeText = asString(proposed.envelope, "proposedContent.envelope");
  const envelope = asObject(JSON.parse(envelopeText), "envelope");
  const payloadType = asString(envelope.payloadType, "envelope.payloadType");
  const payload = Buffer.from(asString(envelope.payload, "envelope.payload"), "base64");
  const keys = asArray(proposed.verifiers, "proposedContent.verifiers").map((v) => asString(v, "verifier"));
  const signatures = asArray(envelope.signatures, "envelope.signatures").map((s) => {
    const sig = asString(asObject(s, "signature").sig, "signature.sig");
    const key = keys.find((k) => verifiesDsse(k, payloadType, payload, Buffer.from(sig, "base64")));
    if (key === undefined) throw new Error("all signatures must have a key that verifies it");
    return { signature: sig, verifier: key };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return {
    apiVersion: "0.0.1",
    kind: "dsse",
    spec: {
      envelopeHash: sha256(Buffer.from(envelopeText)),
      payloadHash: sha256(payload),
      signatures,
    },
  };
}

// intoto v0.0.2: the envelope without its payload (payload and signatures are double base64 there).
function canonicalIntoto(spec: Json): Json {
  const content = asObject(spec.content, "spec.content");
  const envelope = asObject(content.envelope, "content.envelope");
  const payloadType = asString(envelope.payloadType, "envelope.payloadType");
  const payload = Buffer.from(
    Buffer.from(asString(envelope.payload, "envelope.payload"), "base64").toString(),
    "base64",
  );
  const signatures = asArray(envelope.signatures, "envelope.signatures").map((s) => {
    const signature = asObject(s, "signature");
    const sig = Buffer.from(
      Buffer.from(asString(signature.sig, "signature.sig"), "base64").toString(),
      "base64",
    );
    const key = asString(signature.publicKey, "signature.publicKey");
    if (!verifiesDsse(key, payloadType, payload, sig))
      throw new Error("all signatures must have a key that verifies it");
    return signature;
  });
  return {
    apiVersion: "0.0.2",
    kind: "intoto",
    spec: {
      content: {
        envelope: { payloadType, signatures },
        hash: asObject(content.hash, "content.hash"),
        payloadHash: sha256(payload),
      },
    },
  };
}

// `key` is base64 of a PEM certificate or public key, as @sigstore/sign sends them.
function verifiesDsse(key: string, payloadType: string, payload: Buffer, signature: Buffer): boolean {
  const pem = Buffer.from(key, "base64").toString();
  const publicKey = pem.includes("CERTIFICATE") ? new NodeX509Certificate(pem).publicKey : pem;
  const type = Buffer.from(payloadType);
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
  return verify("sha256", pae, publicKey, signature);
}

function sha256(data: Buffer): { algorithm: string; value: string } {
  return { algorithm: "sha256", value: createHash("sha256").update(data).digest("hex") };
}

function asObject(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${what}: expected an object`);
  return value as Json;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${what}: expected a non-empty array`);
  return value;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new Error(`${what}: expected a string`);
  return value;
}
