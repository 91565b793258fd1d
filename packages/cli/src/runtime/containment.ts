import { startEgressBroker } from "@ironclaw/egress";
import { type ContainmentReport, runContainmentSelftest } from "@ironclaw/sandbox";

/** The self-test with the real egress broker, nothing approved: a fetch through it must be refused. */
export function selftest(): Promise<ContainmentReport> {
  return runContainmentSelftest({
    egressBroker: {
      start: (socketPath) =>
        startEgressBroker({
          socketPath,
          agent: "containment-probe",
          allowlist: () => [],
          audit: () => undefined,
        }),
    },
  });
}
