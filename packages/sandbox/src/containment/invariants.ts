/**
 * What the containment self-test checks, shared by the probe (which attempts each) and the host
 * harness (which judges). Each invariant names the probe runs that must observe `expected`:
 * - "sandbox": the sandbox exactly as agents get it;
 * - "namespaces": the same sandbox without Node's permission model, so the OS layer (namespaces,
 *   mounts, capabilities, seccomp) is shown to hold on its own and not only behind ERR_ACCESS_DENIED;
 * - "egress": the sandbox once egress is approved, with the broker's socket present;
 * - "model": the sandbox once a model is approved, with the model proxy's socket present and a
 *   provider key held by the host; without Node's permission model, so a key the OS layer lets
 *   through is found.
 * - "mcp-server": a stdio MCP server's own sandbox (mcpServerSpec, as the MCP broker launches it): the
 *   package read-only, a workspace of its own, no socket of the agent's, no network.
 * The "control-*" invariants expect "allowed": they show the probe can see what it should, so a
 * "denied" elsewhere is not just a probe that cannot do anything.
 */
export const RUNS = ["sandbox", "namespaces", "egress", "model", "mcp-server"] as const;
export type RunName = (typeof RUNS)[number];

export type Outcome = "denied" | "allowed";

export interface InvariantDefinition {
  readonly id: string;
  readonly description: string;
  readonly expected: Outcome;
  readonly runs: readonly RunName[];
}

/** The agent's sandbox with and without the permission model, and an MCP server's sandbox. */
const BOTH: readonly RunName[] = ["sandbox", "namespaces", "mcp-server"];
/** Node's permission model and flags, as the agent's runtime and an MCP server both run. */
const NODE_FLAGS: readonly RunName[] = ["sandbox", "mcp-server"];
/** The agent's sandbox with and without the permission model: what only an agent is given (mounts). */
const AGENT_RUNS: readonly RunName[] = ["sandbox", "namespaces"];

export const INVARIANTS: readonly InvariantDefinition[] = [
  {
    id: "net-host-loopback",
    description: "no TCP connection to a port listening on the host's 127.0.0.1",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "net-public",
    description: "no TCP connection to a public address (1.1.1.1:443, [2606:4700:4700::1111]:443)",
    expected: "denied",
    runs: BOTH,
  },
  { id: "net-interfaces", description: "no network interface but lo", expected: "denied", runs: BOTH },
  {
    id: "net-dns",
    description: "no DNS resolution (example.com through the system resolver and the host's nameserver)",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "control-plane",
    description: "the control-plane API on the host's 127.0.0.1 cannot be reached",
    expected: "denied",
    runs: BOTH,
  },
  { id: "write-root", description: "/ cannot be written", expected: "denied", runs: BOTH },
  { id: "write-etc", description: "/etc cannot be written or created", expected: "denied", runs: BOTH },
  { id: "write-usr", description: "/usr cannot be written or created", expected: "denied", runs: BOTH },
  {
    id: "write-runtime",
    description: "/runtime/app (the runtime's code) cannot be written",
    expected: "denied",
    runs: BOTH,
  },
  { id: "write-dev", description: "/dev cannot be written", expected: "denied", runs: BOTH },
  {
    id: "host-state",
    description: "the host's state directory and its operator token are not visible",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "other-workspace",
    description: "another agent's workspace is not visible",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "exec-shell",
    description: "/bin/sh does not exist and cannot be executed",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "exec-other-binary",
    description:
      "no other program can be executed; the root holds no executable but /runtime/node and its libraries",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "spawn-child",
    description: "the runtime cannot start a child process",
    expected: "denied",
    runs: NODE_FLAGS,
  },
  {
    id: "code-from-strings",
    description: "eval and new Function are refused",
    expected: "denied",
    runs: NODE_FLAGS,
  },
  { id: "native-addon", description: "no native addon can be loaded", expected: "denied", runs: NODE_FLAGS },
  { id: "worker", description: "no Worker thread can be started", expected: "denied", runs: NODE_FLAGS },
  {
    id: "host-pids",
    description: "no host process is visible: /proc shows only the sandbox's own, signals to host pids fail",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "ptrace",
    description:
      "no host process can be traced or have its memory or environment read; no capability is held",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "mount",
    description: "nothing can be mounted: no capabilities (CapEff 0), NoNewPrivs 1, no mount program",
    expected: "denied",
    runs: ["namespaces"],
  },
  {
    id: "seccomp",
    description: "a seccomp filter refuses ptrace, mount, unshare, setns, bpf, keyctl and the like",
    expected: "denied",
    runs: ["namespaces"],
  },
  {
    id: "egress-before-approval",
    description:
      "before egress is approved /run/ironclaw/egress.sock does not exist and cannot be connected to",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "egress-allowlist",
    description: "the egress broker refuses a host that is not on the allowlist",
    expected: "denied",
    runs: ["egress"],
  },
  {
    id: "mount-read-only",
    description:
      "an approved read-only mount cannot be written: no file created, appended, renamed or removed",
    expected: "denied",
    runs: AGENT_RUNS,
  },
  {
    id: "mount-only-approved",
    description:
      "nothing outside the approved mounts is visible: not the mounts root, not a sibling, no descriptor to a source",
    expected: "denied",
    runs: AGENT_RUNS,
  },
  {
    id: "model-before-approval",
    description: "before a model is approved /run/ironclaw/model.sock does not exist",
    expected: "denied",
    runs: BOTH,
  },
  {
    id: "model-key",
    description:
      "no provider key the host holds is readable in the sandbox: environment, files, /proc/*/environ and cmdline",
    expected: "denied",
    runs: ["sandbox", "namespaces", "model"],
  },
  {
    id: "model-unapproved",
    description: "the model proxy refuses a request that names a provider or model of its own choosing",
    expected: "denied",
    runs: ["model"],
  },
  {
    id: "control-model-socket",
    description: "control: once a model is approved, /run/ironclaw/model.sock answers a completion",
    expected: "allowed",
    runs: ["model"],
  },
  {
    id: "model-budget",
    description: "the model proxy serves no more tokens a day than the approved budget, then refuses",
    expected: "denied",
    runs: ["model"],
  },
  {
    id: "control-mount",
    description: "control: the approved mount is at its target and reads back the host's content",
    expected: "allowed",
    runs: AGENT_RUNS,
  },
  {
    id: "mcp-agent-socket",
    description:
      "an MCP server's sandbox holds no socket of the agent's: /run/ironclaw/agent.sock does not exist",
    expected: "denied",
    runs: ["mcp-server"],
  },
  {
    id: "mcp-agent-workspace",
    description: "an MCP server does not see the agent's workspace: its /workspace is its own",
    expected: "denied",
    runs: ["mcp-server"],
  },
  {
    id: "control-agent-socket",
    description: "control: the host's agent socket at /run/ironclaw/agent.sock answers",
    expected: "allowed",
    runs: ["sandbox", "egress"],
  },
  {
    id: "control-workspace",
    description: "control: the agent's own /workspace can be written and read back",
    expected: "allowed",
    runs: BOTH,
  },
  {
    id: "control-workspace-marker",
    description:
      "control: the agent's sandbox finds the marker file in its /workspace, so an MCP server's not finding it means something",
    expected: "allowed",
    runs: ["sandbox"],
  },
  {
    id: "control-loopback",
    description: "control: the sandbox's own loopback carries a TCP connection",
    expected: "allowed",
    runs: BOTH,
  },
];

/** What the harness tells the probe, as its one argument (JSON). */
export interface ProbeConfig {
  readonly run: RunName;
  readonly hostPid: number;
  readonly hostLoopbackPort: number;
  readonly controlPlanePort: number;
  readonly hostStateDir: string;
  readonly hostTokenFile: string;
  readonly otherWorkspaceDir: string;
  readonly hostNameserver?: string;
  /** What may be executable in the sandbox's root: /runtime/node and its libraries. */
  readonly expectedExecutables: readonly string[];
  /** A file that is not a valid addon, for process.dlopen. */
  readonly fakeAddon: string;
  /** The daily token budget the "model" run's approval holds. */
  readonly modelDailyTokens?: number;
  /** The read-only mount the harness approved: where it is inside, a file in it, and what is not approved. */
  readonly mount?: {
    readonly target: string;
    readonly file: string;
    readonly content: string;
    readonly hostMountsRoot: string;
    /** A directory beside the approved one under the mounts root. */
    readonly unapproved: string;
  };
}

/** One line the probe prints per attempt. "inconclusive": the attempt itself could not be made. */
export interface ProbeLine {
  readonly invariant: string;
  readonly observed: Outcome | "inconclusive";
  readonly detail: string;
}

export const AGENT_SOCKET_GREETING = "ironclaw-agent-socket";
/** A file the harness puts in the agent's workspace; an MCP server's /workspace must not hold it. */
export const AGENT_WORKSPACE_MARKER = "agent-workspace-marker.txt";
export const NOT_ALLOWLISTED_HOST = "not-on-the-allowlist.invalid";

/**
 * The provider key the self-test's host holds begins with this; built at run time so that the
 * probe's own code, which the sandbox can read, never holds it.
 */
export const KEY_CANARY_PREFIX = ["IRONCLAW", "KEY", "CANARY", ""].join("-");
