import type { IncomingMessage } from "node:http";
import { request } from "node:https";
import type { LookupFunction } from "node:net";
import type { SecureContext } from "node:tls";
import type { EgressTarget } from "./check.js";
import { EgressError } from "./errors.js";
import { REFUSALS, type RefusalReason } from "./reasons.js";
import type { Refusal } from "./target.js";
import type { ResolvedAddress } from "./types.js";

export interface UpstreamRequest {
  readonly target: EgressTarget;
  readonly method: string;
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** Every trusted root; undefined for Node's defaults. */
  readonly secureContext: SecureContext | undefined;
  readonly resolve: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** The pure check of resolved addresses, run inside the connect so what is checked is what is dialled. */
  readonly checkAddresses: (addresses: readonly ResolvedAddress[]) => Refusal | undefined;
}

export type UpstreamOutcome =
  | { readonly ok: true; readonly response: IncomingMessage }
  | { readonly ok: false; readonly reason: RefusalReason; readonly message: string };

export interface UpstreamExchange {
  readonly outcome: Promise<UpstreamOutcome>;
  /** Cuts the upstream connection, whatever state it is in. */
  abort(): void;
  /** The body's bytes once node has handed the whole request to the OS, else 0. */
  bytesSent(): number;
}

/** One HTTPS request, certificate verified, on a fresh connection: no pool shares a socket across checks. */
export function requestUpstream(options: UpstreamRequest): UpstreamExchange {
  let refusal: Refusal | undefined;
  let tcpConnected = false;
  let tlsDone = false;
  const lookup = checkedLookup(options, (found) => {
    refusal = found;
  });
  const upstream = request({
    host: options.target.host,
    port: options.target.port,
    method: options.method,
    path: options.target.pathAndQuery,
    headers: [...options.headers],
    setHost: false,
    agent: false,
    rejectUnauthorized: true,
    ...(options.secureContext === undefined ? {} : { secureContext: options.secureContext }),
    lookup,
    insecureHTTPParser: false,
    joinDuplicateHeaders: false,
  });
  upstream.on("socket", (socket) => {
    socket.once("connect", () => {
      tcpConnected = true;
    });
    socket.once("secureConnect", () => {
      tlsDone = true;
    });
  });
  const outcome = new Promise<UpstreamOutcome>((resolve) => {
    upstream.once("response", (response) => resolve({ ok: true, response }));
    upstream.once("error", (error: NodeJS.ErrnoException) => {
      if (refusal !== undefined) resolve({ ok: false, ...refusal });
      else if (tcpConnected && !tlsDone) {
        resolve({
          ok: false,
          reason: "upstream_tls_error",
          message: `TLS with the upstream failed: ${error.message}`,
        });
      } else
        resolve({
          ok: false,
          reason: "upstream_error",
          message: `the upstream failed: ${error.code ?? error.message}`,
        });
    });
  });
  let sent = 0;
  upstream.once("finish", () => {
    sent = options.body.length;
  });
  upstream.end(options.body);
  return { outcome, abort: () => upstream.destroy(), bytesSent: () => sent };
}

/**
 * The lookup node's connect calls: it resolves, checks every address, and hands node only checked
 * ones, so a second DNS answer (rebinding) can never reach the connect.
 */
function checkedLookup(options: UpstreamRequest, onRefusal: (refusal: Refusal) => void): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    const fail = (found: Refusal): void => {
      onRefusal(found);
      callback(new EgressError(REFUSALS[found.reason].code, found.message), "", 4);
    };
    if (hostname !== options.target.host) {
      fail({
        reason: "resolves_to_private_address",
        message: `expected to resolve ${options.target.host} only`,
      });
      return;
    }
    // A resolver that throws instead of rejecting still ends in the refusal below.
    Promise.resolve()
      .then(() => options.resolve(hostname))
      .then(
        (addresses) => {
          const problem = options.checkAddresses(addresses);
          if (problem !== undefined) return fail(problem);
          const family = lookupOptions.family === 4 || lookupOptions.family === 6 ? lookupOptions.family : 0;
          const usable = addresses.filter((a) => family === 0 || a.family === family);
          const first = usable[0];
          if (first === undefined)
            return fail({ reason: "dns_error", message: `${hostname} has no IPv${family} address` });
          if (lookupOptions.all)
            callback(
              null,
              usable.map((a) => ({ address: a.address, family: a.family })),
            );
          else callback(null, first.address, first.family);
        },
        (error: unknown) => {
          const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "failed";
          fail({ reason: "dns_error", message: `cannot resolve ${hostname}: ${code}` });
        },
      );
  };
}
