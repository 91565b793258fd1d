import { foldsRecordType, GatewayState } from "./changes/fold.js";
import { type LogVerification, type VerifyEventLogOptions, verifyEventLog } from "./log/index.js";

/**
 * `audit verify`: the hash chain and checkpoints, and every record folded as `up` folds it, so a
 * record the live gateway would never have written (an approval by nobody, of another digest, an
 * apply without an approval) fails here at its number, as it fails `up`.
 */
export function verifyGatewayLog(options: Omit<VerifyEventLogOptions, "onRecord">): Promise<LogVerification> {
  const state = new GatewayState();
  return verifyEventLog({
    ...options,
    onRecord: (record) => state.fold(record),
    recordTypes: foldsRecordType,
  });
}
