import type { Gateway, JsonValue } from "@ironclaw/gateway";

/**
 * How a host broker (model proxy, MCP broker, egress broker) writes its audit events into the
 * gateway's log. Each broker fails closed when its audit callback throws; recordSecurityEvent never
 * throws (it drops events once the log has failed), so the sink throws for it while the log cannot
 * be written, and the broker stops serving instead of serving unaudited.
 */
export function gatewayAuditSink<T extends { readonly type: string }>(gateway: Gateway): (event: T) => void {
  return (event) => {
    if (!gateway.ready) throw new Error("the gateway's event log cannot be written");
    gateway.recordSecurityEvent({ ...(event as unknown as { type: string; [field: string]: JsonValue }) });
  };
}
