/** Who is calling: decided by the API from the bearer token, never from a request body. */
export type Role = "operator" | "viewer" | "agent";

export interface Principal {
  /** Stable name in the audit log, e.g. `operator`, `viewer`, `agent:builder`. */
  readonly id: string;
  readonly role: Role;
  /** For role `agent`: the agent this principal is, and the only one it may submit changes for. */
  readonly agent?: string;
}
