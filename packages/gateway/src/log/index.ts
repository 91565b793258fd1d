export { canonicalJson } from "./canonical-json.js";
export {
  type Checkpoint,
  checkpointLine,
  parseCheckpoint,
  signCheckpoint,
  verifyCheckpoint,
} from "./checkpoint.js";
export { EventLog, type EventLogOptions, type Head, type RecoveryReport } from "./event-log.js";
export {
  CHECKPOINTS_FILE,
  EVENTS_FILE,
  LOCK_FILE,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
} from "./files.js";
export {
  type HostKey,
  hostKeyFromPrivatePem,
  keyIdOf,
  type PublicHostKey,
  publicKeyFromPem,
} from "./host-key.js";
export { lockHeld } from "./lock.js";
export { type LogRecord, type NewEvent, sealRecord, ZERO_HASH } from "./record.js";
export { type LogVerification, type VerifyEventLogOptions, verifyEventLog } from "./verify.js";
