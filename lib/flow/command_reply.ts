/**
 * The one boundary every slash command passes through, so that every interaction gets an answer
 * within Discord's 3 seconds ("The application did not respond" otherwise).
 *
 * An unknown name (a stale registration) and a command without a channel get a short notice; a
 * handler that throws, or returns without answering, leaves a notice in its place; a handler
 * still busy after {@linkcode AnswerCommandOptions.deferAfterMs} is deferred for it.
 *
 * @module
 */
import { type Clock, systemClock } from "../clock.ts";
import type { DiscordPort, SlashCommand } from "../discord/mod.ts";
import { text } from "../text/strings_ko.ts";

/** The interaction calls of {@linkcode DiscordPort}. */
export type InteractionPort = Pick<
  DiscordPort,
  "deferInteraction" | "replyToInteraction" | "editInteractionReply" | "followUpInteraction"
>;

/** A command that names the channel it was used in. */
export type ChannelCommand = SlashCommand & { channelId: string };

/** Discord drops an interaction not acknowledged within 3 s; defer with room to spare. */
const DEFER_AFTER_MS = 2_000;

/**
 * The answer to one interaction. Calls run one after another, and each picks the right call for
 * where the answer stands: the first response, the edit of a deferred one, or a follow-up.
 */
export class CommandReply {
  readonly #port: InteractionPort;
  readonly #command: SlashCommand;
  #state: "none" | "deferred" | "replied" = "none";
  #queue: Promise<unknown> = Promise.resolve();

  /** Answers `command` through `port`. */
  constructor(port: InteractionPort, command: SlashCommand) {
    this.#port = port;
    this.#command = command;
  }

  /** True once the user can read an answer (not just "thinking…"). */
  get replied(): boolean {
    return this.#state === "replied";
  }

  /** Acknowledges now and answers later, unless an answer or a defer already went out. */
  defer(): Promise<void> {
    return this.#run(async () => {
      if (this.#state !== "none") return;
      await this.#port.deferInteraction(this.#command.id, this.#command.token);
      this.#state = "deferred";
    });
  }

  /**
   * Shows `content`: as the first response (ephemeral unless told otherwise), as the edit of a
   * deferred response (whose visibility the defer already fixed), or as a follow-up.
   */
  send(content: string, options: { ephemeral?: boolean } = {}): Promise<void> {
    const { id, token } = this.#command;
    return this.#run(async () => {
      if (this.#state === "none") {
        await this.#port.replyToInteraction(id, token, content, options);
      } else if (this.#state === "deferred") {
        await this.#port.editInteractionReply(token, content);
      } else {
        await this.#port.followUpInteraction(token, content);
      }
      this.#state = "replied";
    });
  }

  #run(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step);
    this.#queue = next.catch(() => {});
    return next;
  }
}

/** Options for {@linkcode answerCommand}. */
export interface AnswerCommandOptions {
  /** The command names the bot handles; any other gets {@linkcode text.commandUnknown}. */
  commands: ReadonlySet<string>;
  /** Logs a handler's failure or a failed notice. */
  onError(error: unknown): void;
  /** Milliseconds after which a handler that has not answered is deferred. @default {2000} */
  deferAfterMs?: number;
  /** Times the defer. @default {systemClock} */
  clock?: Clock;
}

/**
 * Runs `handle` for `command` so that the interaction is always answered.
 *
 * @example Usage
 * ```ts ignore
 * await answerCommand(command, discord, (command, reply) => reply.send("안녕"), {
 *   commands: new Set(["help"]),
 *   onError: console.error,
 * });
 * ```
 */
export async function answerCommand(
  command: SlashCommand,
  port: InteractionPort,
  handle: (command: ChannelCommand, reply: CommandReply) => Promise<void>,
  options: AnswerCommandOptions,
): Promise<void> {
  const reply = new CommandReply(port, command);
  const clock = options.clock ?? systemClock;
  const deferTimer = clock.setTimeout(
    () => reply.defer().catch(options.onError),
    options.deferAfterMs ?? DEFER_AFTER_MS,
  );
  let notice: string = text.commandFailed;
  try {
    const channelId = command.channelId;
    if (!options.commands.has(command.name)) notice = text.commandUnknown;
    else if (channelId === undefined) notice = text.commandNeedsChannel;
    else await handle({ ...command, channelId }, reply);
  } catch (error) {
    options.onError(error);
  } finally {
    clock.clearTimeout(deferTimer);
  }
  if (!reply.replied) await reply.send(notice).catch(options.onError);
}
