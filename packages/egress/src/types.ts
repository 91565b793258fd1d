/** One approved destination: an exact lower-case host name or canonical IP literal (no brackets), and a port. */
export interface EgressRule {
  readonly host: string;
  readonly port: number;
}

/**
 * One per request, allowed or denied. Never holds header values, bodies or the query string (they may
 * carry secrets); `path` is the request path as sent, percent-encoding kept, cut at 2048 characters.
 */
export interface EgressAuditEvent {
  readonly type: "egress.request";
  readonly agent: string;
  readonly method: string;
  /** The host as the agent spelled it (lower-cased), or "" when there was none to read. */
  readonly host: string;
  readonly port: number | null;
  readonly path: string;
  /** What the agent was answered: the upstream's status, or the broker's own; null when nothing was. */
  readonly status: number | null;
  /** Response body bytes passed from the upstream to the agent. */
  readonly bytesIn: number;
  /** Request body bytes sent upstream. */
  readonly bytesOut: number;
  readonly durationMs: number;
  /** "denied": a rule or limit of the broker stopped the exchange; "allowed" otherwise. */
  readonly decision: "allowed" | "denied";
  /** A stable reason: "ok", or one of EGRESS_REASONS. */
  readonly reason: string;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface EgressLimits {
  /** Largest request body, buffered before the upstream is contacted (default 1 MiB). */
  readonly requestBodyBytes?: number;
  /** Largest response body; a longer one is cut (default 10 MiB). */
  readonly responseBodyBytes?: number;
  /** The whole exchange, from request headers to the last response byte (default 30 s). */
  readonly timeoutMs?: number;
  /** Exchanges in flight at once (default 8); one broker serves one agent. */
  readonly concurrent?: number;
}

export interface EgressBrokerOptions {
  readonly socketPath: string;
  /** Default 0o600; 0o666 when the sandbox runs as another uid. */
  readonly socketMode?: number;
  readonly agent: string;
  /** Read at every request: the registry's current list, changed only by approved changes. */
  readonly allowlist: () => readonly EgressRule[];
  /** Called exactly once per request. If it throws, the broker refuses every later request. */
  readonly audit: (event: EgressAuditEvent) => void;
  /** Default: dns.promises.lookup(host, { all: true }). */
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Trusted in addition to Node's default roots. */
  readonly ca?: readonly (string | Buffer)[];
  readonly limits?: EgressLimits;
}

export interface EgressBroker {
  readonly socketPath: string;
  close(): Promise<void>;
}
