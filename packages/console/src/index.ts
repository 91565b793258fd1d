export { CONTENT_SECURITY_POLICY } from "./http-util.js";
export { type ConsoleOptions, type ConsoleServer, startConsole } from "./server.js";
