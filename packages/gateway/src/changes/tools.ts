/**
 * The tools compiled into the shipped agent runtime. An `enabled_tools` change can only choose among
 * these: a tool that is not compiled in cannot be enabled, because there is no code to run.
 */
export const COMPILED_IN_TOOLS = [
  "read_file",
  "write_file",
  "list_files",
  "search_workspace",
  "send_message",
  "http_fetch",
] as const;

export type ToolName = (typeof COMPILED_IN_TOOLS)[number];
