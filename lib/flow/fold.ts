/**
 * A fold of a channel's running memory, the step after a chat turn's commit when the commit
 * handed one over: the exchanges that left the window go to the broker at the low priority, and
 * the new memory goes back to the session. The user's answer is already shown by then, and the
 * channel's next turn already has the window: a fold delays neither.
 *
 * @module
 */
import type { BrokerRequest, BrokerResult } from "../broker/mod.ts";
import type { Logger } from "../log.ts";
import { cleanMemory, foldRequest, type FoldTask, type SessionsPort } from "../sessions/mod.ts";

/** What a fold crosses. */
export interface FoldDeps {
  /** The session layer, which takes the fold's result. */
  sessions: Pick<SessionsPort, "remember">;
  /** Asks Gemini through the broker; never rejects. */
  generate(request: BrokerRequest): Promise<BrokerResult>;
  /** Where a failed fold is noted. */
  logger: Logger;
}

/**
 * Folds `task`'s exchanges into `channelId`'s memory and hands the result to the session: the
 * new memory, or `undefined` when the call failed or gave nothing usable, so the session keeps
 * its old memory and offers the fold again later. Never rejects.
 *
 * @example
 * ```ts ignore
 * if (committed.ok && committed.fold) await foldMemory(channelId, committed.fold, deps);
 * ```
 */
export async function foldMemory(
  channelId: string,
  task: FoldTask,
  deps: FoldDeps,
): Promise<void> {
  const { logger } = deps;
  const result = await deps.generate(foldRequest(task.memory, task.exchanges));
  const memory = result.ok ? cleanMemory(result.text) : undefined;
  const stopping = !result.ok && result.reason === "stopped";
  if (memory === undefined && !stopping) {
    logger.warn("Memory fold failed, kept the old memory: {reason}", {
      channelId,
      reason: result.ok ? "empty answer" : result.reason,
    });
  }
  const remembered = await deps.sessions.remember(channelId, task.id, memory);
  if (!remembered.ok && remembered.error !== "stopping") {
    logger.warn("Memory fold not kept: {error}", { channelId, error: remembered.error });
  }
}
