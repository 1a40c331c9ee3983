/**
 * Sessions: one conversation per channel, as pure logic.
 *
 * Owns the window of the last exchanges and the running memory they are folded into, the port the
 * message flow sees the session actors through, placement of channels on hosts, and the supervisor's
 * policy written as data (intensity, period, restarts counted in a sliding window). The actors that
 * run them are in `actors/sessions/`.
 *
 * @module
 */
export { cleanMemory, foldRequest } from "./memory_fold.ts";
export type { CommitResult, FoldTask, SessionsPort } from "./port.ts";
export { DEFAULT_SUPERVISOR_POLICY } from "./supervisor_policy.ts";
export type { SupervisorPolicy } from "./supervisor_policy.ts";
export { MAX_EXCHANGES, modelPartsFrom } from "./window.ts";
export type { Exchange } from "./window.ts";
