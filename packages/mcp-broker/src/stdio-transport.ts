import type { ChildProcess } from "node:child_process";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { type JSONRPCMessage, JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";
import { McpBrokerError } from "./errors.js";

const STDERR_KEPT = 4096;

/**
 * MCP's stdio framing (one JSON-RPC message per line) over a sandboxed child. Unlike the SDK's own
 * reader it is bounded: a line longer than `maxMessageBytes` (an endless result, a huge schema) ends
 * the session and kills the child. The child's stderr is drained, its last 4 KiB kept for errors.
 */
export class SandboxStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The last thing that went wrong, for the broker to name in its answer. */
  failure: McpBrokerError | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stderrTail = "";
  private closed = false;

  constructor(
    private readonly child: ChildProcess,
    private readonly maxMessageBytes: number,
  ) {}

  async start(): Promise<void> {
    const { child } = this;
    child.stdout?.on("data", (chunk: Buffer) => this.receive(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_KEPT);
    });
    child.stdin?.on("error", () => {});
    child.once("error", (error) => this.fail(new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", error.message)));
    child.once("close", (code, signal) => {
      if (!this.closed)
        this.failure ??= new McpBrokerError(
          "IC_MCP_SERVER_UNAVAILABLE",
          `the server's sandbox exited (${signal ?? `code ${String(code)}`}): ${this.stderrTail.trim().slice(-512) || "no output"}`,
        );
      this.finish();
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.child.stdin === null)
      throw new McpBrokerError("IC_MCP_SERVER_UNAVAILABLE", "the server's sandbox is gone");
    const line = `${JSON.stringify(message)}\n`;
    await new Promise<void>((resolve, reject) => {
      this.child.stdin?.write(line, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    this.finish();
  }

  get stderr(): string {
    return this.stderrTail;
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.append(chunk.subarray(start, newline));
      if (this.closed) return;
      const line = Buffer.concat(this.pending, this.pendingBytes).toString("utf8");
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      this.deliver(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
    this.append(chunk.subarray(start));
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxMessageBytes) {
      this.fail(
        new McpBrokerError(
          "IC_MCP_RESPONSE_TOO_LARGE",
          `expected messages of at most ${this.maxMessageBytes} bytes from the server`,
        ),
      );
      return;
    }
    this.pending.push(part);
  }

  private deliver(line: string): void {
    if (line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch {
      this.fail(
        new McpBrokerError("IC_MCP_PROTOCOL", "expected one JSON-RPC message per line from the server"),
      );
      return;
    }
    this.onmessage?.(message);
  }

  private fail(error: McpBrokerError): void {
    this.failure ??= error;
    this.onerror?.(error);
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = [];
    this.child.stdout?.removeAllListeners("data");
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    this.onclose?.();
  }
}
