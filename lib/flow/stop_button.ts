/**
 * The stop button ("그만") on an answer that is still streaming: its `custom_id` names the turn
 * and the person who asked, so a press is judged without any lookup; the turns running in this
 * process are kept by id, so a press can cancel one.
 *
 * Who may press it: the person who asked, or a member with Manage Messages (or Administrator).
 * Anyone else is told so, in a reply only they see. Every press is answered at once, well inside
 * Discord's 3 s: a stop or a press on an answer already finished is acknowledged quietly (type 6),
 * and the answer's own final edit then marks it and takes the button off.
 *
 * @module
 */
import type { ActionRow, ComponentPress, DiscordPort } from "../discord/mod.ts";
import type { Logger } from "../log.ts";
import { isSnowflake } from "../snowflake.ts";
import { text } from "../text/strings_ko.ts";

/** Discord's MANAGE_MESSAGES permission bit. */
export const MANAGE_MESSAGES = 1n << 13n;
/** Discord's ADMINISTRATOR bit, which grants every permission. */
const ADMINISTRATOR = 1n << 3n;
/** What a stop button's `custom_id` starts with. */
const STOP_PREFIX = "stop";
/** Discord's button style 4: red, for an action that ends something. */
const DANGER = 4;

/**
 * The row holding the stop button of turn `turnId`, asked by `askerId`.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const [row] = stopButtonRow("1600000000000000001", "1200000000000000001");
 * strictEqual(row.components[0].custom_id, "stop:1600000000000000001:1200000000000000001");
 * ```
 */
export function stopButtonRow(turnId: string, askerId: string): ActionRow[] {
  return [{
    type: 1,
    components: [{
      type: 2,
      style: DANGER,
      label: text.stopButton,
      custom_id: `${STOP_PREFIX}:${turnId}:${askerId}`,
    }],
  }];
}

/**
 * The turn and the asker a stop button's `custom_id` names, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * deepStrictEqual(parseStopId("stop:1600000000000000001:1200000000000000001"), {
 *   turnId: "1600000000000000001",
 *   askerId: "1200000000000000001",
 * });
 * strictEqual(parseStopId("stop:../x:1"), undefined);
 * ```
 */
export function parseStopId(customId: string): { turnId: string; askerId: string } | undefined {
  const [prefix, turnId, askerId, ...rest] = customId.split(":");
  const isStop = prefix === STOP_PREFIX && rest.length === 0;
  if (!isStop || !isSnowflake(turnId) || !isSnowflake(askerId)) return undefined;
  return { turnId, askerId };
}

/**
 * True when the presser may stop an answer asked by `askerId`: it is theirs, or their
 * `member.permissions` hold Manage Messages or Administrator.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(mayStop({ userId: "1", memberPermissions: "0" }, "1"), true);
 * strictEqual(mayStop({ userId: "2", memberPermissions: String(1n << 13n) }, "1"), true);
 * strictEqual(mayStop({ userId: "2", memberPermissions: "2048" }, "1"), false);
 * ```
 */
export function mayStop(
  press: Pick<ComponentPress, "userId" | "memberPermissions">,
  askerId: string,
): boolean {
  if (press.userId !== "" && press.userId === askerId) return true;
  const permissions = press.memberPermissions;
  if (permissions === undefined || !/^\d{1,20}$/.test(permissions)) return false;
  return (BigInt(permissions) & (MANAGE_MESSAGES | ADMINISTRATOR)) !== 0n;
}

/** Where a running turn was asked, and by whom: what a press is judged by, not its custom_id. */
export interface TurnOwner {
  /** The channel the turn answers in. */
  channelId: string;
  /** The person who asked. */
  askerId: string;
}

/** What a chat turn needs to be stoppable: a place to say it runs. */
export interface StoppableTurns {
  /** Says turn `turnId` runs until the returned function is called; a stop aborts `abort`. */
  add(turnId: string, abort: AbortController, owner?: TurnOwner): () => void;
}

/**
 * The chat turns running in this process, by turn id (the asker's message id).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const turns = new RunningTurns();
 * const abort = new AbortController();
 * const done = turns.add("1", abort);
 * strictEqual(turns.stop("1"), true);
 * strictEqual(abort.signal.aborted, true);
 * done();
 * strictEqual(turns.stop("1"), false);
 * ```
 */
export class RunningTurns implements StoppableTurns {
  #turns = new Map<string, { abort: AbortController; owner?: TurnOwner }>();

  /** Turns running now. */
  get size(): number {
    return this.#turns.size;
  }

  add(turnId: string, abort: AbortController, owner?: TurnOwner): () => void {
    this.#turns.set(turnId, { abort, ...(owner ? { owner } : {}) });
    return () => {
      if (this.#turns.get(turnId)?.abort === abort) this.#turns.delete(turnId);
    };
  }

  /** Where and by whom turn `turnId` was asked, when it runs here and said so. */
  owner(turnId: string): TurnOwner | undefined {
    return this.#turns.get(turnId)?.owner;
  }

  /** Aborts turn `turnId`; false when it is not running here (finished, or never was). */
  stop(turnId: string): boolean {
    const turn = this.#turns.get(turnId);
    if (!turn) return false;
    this.#turns.delete(turnId);
    turn.abort.abort(new Error("stopped with its button"));
    return true;
  }
}

/** What answering a press crosses. */
export interface StopPressDeps {
  /** Where the press is answered. */
  discord: Pick<DiscordPort, "acknowledgeComponent" | "replyToInteraction">;
  /** The turns this process runs. */
  turns: Pick<RunningTurns, "stop" | "owner">;
  /** Where a press that could not be answered is logged. */
  logger: Logger;
}

/**
 * Answers one button press: stops the turn its button names when the presser may, and
 * acknowledges at once; refuses anyone else in a reply only they see. Never rejects.
 */
export async function answerStopPress(press: ComponentPress, deps: StopPressDeps): Promise<void> {
  const { discord, logger } = deps;
  const stop = parseStopId(press.customId);
  try {
    // A running turn is judged by what it recorded, not by the custom_id a client sent: a forged
    // one could name the presser as the asker, or a turn of another channel.
    const owner = stop && deps.turns.owner(stop.turnId);
    const otherChannel = owner !== undefined && owner.channelId !== press.channelId;
    if (stop && (otherChannel || !mayStop(press, owner?.askerId ?? stop.askerId))) {
      return await discord.replyToInteraction(press.id, press.token, text.stopRefused, {
        ephemeral: true,
      });
    }
    // Abort first: the call ends now, and the turn's final edit marks the answer and takes the
    // button off. A press on a finished answer, or on a button not ours, changes nothing.
    const stopped = stop !== undefined && deps.turns.stop(stop.turnId);
    if (stopped) logger.info("Answer stopped with its button", { turnId: stop.turnId });
    await discord.acknowledgeComponent(press.id, press.token);
  } catch (error) {
    logger.warn("Button press not answered: {error}", { error: String(error) });
  }
}
