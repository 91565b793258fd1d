import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { bundleToJSON, type SerializedBundle } from "@sigstore/bundle";
import { X509Certificate } from "@sigstore/core";
import { fulcioHandler, initializeCA, initializeCTLog } from "@sigstore/mock/dist/fulcio/index.js";
import { initializeTLog, rekorHandler } from "@sigstore/mock/dist/rekor/index.js";
import { initializeTSA, tsaHandler } from "@sigstore/mock/dist/timestamp/index.js";
import type { SigningIdentity } from "./identity.js";
import { IdentityTokenMinter } from "./jwt.js";
import { type LegacyCosignBundle, toLegacyCosignBundle } from "./legacy-cosign.js";
import { canonicalizingRekorHandler } from "./rekor-canonical.js";
import { LoopbackServer } from "./server.js";
import { type RekorEntryType, type SigningServices, signDsseBundle, signMessageBundle } from "./signing.js";
import { buildTrustedRoot } from "./trusted-root.js";

// Deep imports on purpose: @sigstore/mock's index loads nock, which patches node:http process-wide.

export interface LocalSigstoreOptions {
  /**
   * Freezes the time of Fulcio, the CT log, Rekor and the TSA at this instant (certificates, SCTs,
   * integrated times, timestamps). The mock's root certificates are always valid from the real start
   * time for a year, so the clock must fall in that year.
   */
  clock?: Date;
  /** Run a timestamp authority and add an RFC 3161 timestamp to every bundle; default true. */
  timestampAuthority?: boolean;
}

export interface LocalSigstoreURLs {
  fulcio: string;
  rekor: string;
  tsa?: string;
}

export interface SignDsseOptions {
  /** The Rekor v1 entry kind; default `dsse` (`intoto` is what older clients wrote). */
  rekorEntryType?: RekorEntryType;
}

/**
 * A throwaway Sigstore on loopback: Fulcio (with a CT log), Rekor v1 and a TSA from @sigstore/mock behind
 * real HTTP servers, fresh keys each time, and the trusted root that verifies what it signs. Signing goes
 * through @sigstore/sign, as a real release would.
 */
export class LocalSigstore {
  /** The trusted_root.json document for this instance. */
  readonly trustedRoot: Record<string, unknown>;
  readonly urls: LocalSigstoreURLs;
  readonly #servers: LoopbackServer[];
  readonly #minter: IdentityTokenMinter;
  #stopped = false;

  private constructor(
    trustedRoot: Record<string, unknown>,
    urls: LocalSigstoreURLs,
    servers: LoopbackServer[],
    minter: IdentityTokenMinter,
  ) {
    this.trustedRoot = trustedRoot;
    this.urls = urls;
    this.#servers = servers;
    this.#minter = minter;
  }

  static async start(options: LocalSigstoreOptions = {}): Promise<LocalSigstore> {
    // A copy: the mock keeps the Date it is given, and the caller may change theirs.
    const clock = options.clock === undefined ? undefined : new Date(options.clock);
    if (clock !== undefined && Number.isNaN(clock.getTime())) {
      throw new RangeError("LocalSigstore: options.clock is an invalid Date");
    }
    assertLoopbackNotProxied();
    const servers: LoopbackServer[] = [];
    const listen = async (): Promise<LoopbackServer> => {
      const server = await LoopbackServer.listen();
      servers.push(server);
      return server;
    };
    try {
      const fulcio = await listen();
      const rekor = await listen();
      const tsa = (options.timestampAuthority ?? true) ? await listen() : undefined;

      const ctLogKeys = newKeyPair();
      const ctLog = await initializeCTLog(ctLogKeys, clock);
      const ca = await initializeCA(newKeyPair(), ctLog, clock);
      fulcio.route(fulcioHandler(ca));

      // The TLog names its checkpoints after the host of its URL, so it needs the port first.
      const rekorKeys = newKeyPair();
      rekor.route(
        canonicalizingRekorHandler(rekorHandler(await initializeTLog(rekor.url, rekorKeys, clock))),
      );

      const caRoot = toBuffer(ca.rootCertificate);
      const tsaChain = tsa === undefined ? undefined : await hostTimestampAuthority(tsa, clock);
      const validFrom = checkClock([caRoot, ...(tsaChain ?? []).slice(1)], clock);

      const urls: LocalSigstoreURLs = { fulcio: fulcio.url, rekor: rekor.url };
      if (tsa !== undefined) urls.tsa = tsa.url;
      const trustedRoot = buildTrustedRoot({
        validFrom,
        fulcio: { url: fulcio.url, rootCertificate: caRoot },
        // The CT log has no server of its own: it lives inside the Fulcio mock.
        ctLog: { url: fulcio.url, publicKey: spki(ctLogKeys.publicKey) },
        rekor: { url: rekor.url, publicKey: spki(rekorKeys.publicKey) },
        ...(tsa !== undefined && tsaChain !== undefined
          ? { tsa: { url: tsa.url, certificateChain: tsaChain } }
          : {}),
      });
      const minter = new IdentityTokenMinter(() => clock ?? new Date());
      return new LocalSigstore(trustedRoot, urls, servers, minter);
    } catch (error) {
      await Promise.allSettled(servers.map((s) => s.close()));
      throw error;
    }
  }

  /** A v0.3 bundle: message signature over `artifact`, Fulcio certificate, Rekor v1 hashedrekord entry. */
  async signMessage(artifact: Uint8Array, identity: SigningIdentity): Promise<SerializedBundle> {
    return bundleToJSON(await signMessageBundle(this.#services(identity), artifact));
  }

  /** A v0.3 bundle: DSSE envelope (e.g. an in-toto statement), Fulcio certificate, Rekor v1 dsse entry. */
  async signDsse(
    payload: Uint8Array,
    payloadType: string,
    identity: SigningIdentity,
    options: SignDsseOptions = {},
  ): Promise<SerializedBundle> {
    const entryType = options.rekorEntryType ?? "dsse";
    return bundleToJSON(await signDsseBundle(this.#services(identity), payload, payloadType, entryType));
  }

  /** cosign's legacy `--bundle` JSON, made from a message-signature bundle of `artifact`. */
  async signLegacyCosign(artifact: Uint8Array, identity: SigningIdentity): Promise<LegacyCosignBundle> {
    return toLegacyCosignBundle(await signMessageBundle(this.#services(identity), artifact));
  }

  /**
   * An OIDC identity token this instance's Fulcio accepts for `identity`, for a client that signs by
   * itself (as `cosign sign-blob --identity-token` or `ironclaw skills sign` do) against `urls`.
   */
  identityToken(identity: SigningIdentity): string {
    if (this.#stopped) throw new Error("LocalSigstore: the instance has been stopped");
    return this.#minter.mint(identity);
  }

  /** Closes every server; later signing fails. Safe to call twice. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#servers.map((s) => s.close()));
  }

  #services(identity: SigningIdentity): SigningServices {
    if (this.#stopped) throw new Error("LocalSigstore: the instance has been stopped");
    const services: SigningServices = {
      fulcioURL: this.urls.fulcio,
      rekorURL: this.urls.rekor,
      identityToken: () => this.#minter.mint(identity),
    };
    if (this.urls.tsa !== undefined) services.tsaURL = this.urls.tsa;
    return services;
  }
}

/** Hosts a mock TSA on `server`; returns its certificate chain, signing certificate first. */
async function hostTimestampAuthority(
  server: LoopbackServer,
  clock: Date | undefined,
): Promise<Buffer<ArrayBuffer>[]> {
  // @sigstore/core reads a GeneralizedTime only with exactly three fraction digits, and asn1js drops
  // trailing zeros (.120 becomes .12): so the TSA tells time in whole seconds, read afresh per request.
  const tsaClock = new Date(wholeSeconds(clock ?? new Date()));
  const authority = await initializeTSA(newKeyPair(), tsaClock);
  const handler = tsaHandler(authority);
  server.route({
    path: handler.path,
    fn: (body) => {
      if (clock === undefined) tsaClock.setTime(wholeSeconds(new Date()));
      return handler.fn(body);
    },
  });
  return [toBuffer(authority.intCertificate), toBuffer(authority.rootCertificate)];
}

function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

function wholeSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000) * 1000;
}

function spki(key: KeyObject): Buffer {
  return key.export({ format: "der", type: "spki" });
}

function toBuffer(view: ArrayBufferView): Buffer<ArrayBuffer> {
  return Buffer.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

// The roots are made with the real time, whatever the clock; a clock outside them signs nothing valid.
// Returns the instant from which the instance's keys are valid.
function checkClock(roots: Buffer<ArrayBuffer>[], clock: Date | undefined): Date {
  const certs = roots.map((der) => X509Certificate.parse(der));
  const notBefore = new Date(Math.max(...certs.map((c) => c.notBefore.getTime())));
  const notAfter = new Date(Math.min(...certs.map((c) => c.notAfter.getTime())));
  if (clock !== undefined && (clock < notBefore || clock > notAfter)) {
    throw new RangeError(
      `LocalSigstore: clock ${clock.toISOString()} is outside the root certificates' validity ` +
        `(${notBefore.toISOString()} to ${notAfter.toISOString()})`,
    );
  }
  return new Date(Math.min(...certs.map((c) => c.notBefore.getTime())));
}

// @sigstore/sign fetches through @npmcli/agent, which honours proxy variables even for 127.0.0.1.
function assertLoopbackNotProxied(): void {
  const env = Object.fromEntries(Object.entries(process.env).map(([k, v]) => [k.toLowerCase(), v]));
  const proxy = env.https_proxy || env.http_proxy || env.proxy;
  if (!proxy) return;
  const host = "127.0.0.1";
  const bypassed = (env.no_proxy ?? "")
    .split(",")
    .map((entry) => entry.trim().replace(/^\.+/, ""))
    .some((entry) => entry !== "" && (host === entry || host.endsWith(`.${entry}`)));
  if (!bypassed) {
    throw new Error(
      "LocalSigstore: a proxy is configured (http_proxy/https_proxy) and NO_PROXY does not list 127.0.0.1, " +
        "so @sigstore/sign would send loopback requests to the proxy; add 127.0.0.1 to NO_PROXY",
    );
  }
}
