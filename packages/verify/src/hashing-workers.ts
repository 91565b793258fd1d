/** Hashing workers to start before the files are known; nothing else, so importing it costs nothing. */
export { HashingWorkers } from "./hashing/workers.js";
