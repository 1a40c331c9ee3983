/**
 * SessionActor: one per channel. It owns the channel's history window and handles the channel's
 * messages one at a time, in order, through its own mailbox.
 *
 * Many session actors live in one worker host (see `session_host.ts`); an actor shares nothing
 * and talks to the outside only through the `reply` function it is given, which the host turns
 * into a message to the main thread (the broker and Discord live there).
 *
 * @module
 */
import { type Content, type Exchange, HistoryWindow } from "../lib/history_window.ts";
import type { SessionStore } from "../lib/store.ts";
import { Mailbox } from "./mailbox.ts";

/**
 * A message for a session: a user's chat line, a request to forget the conversation, or an
 * exchange that was already answered and shown and only needs recording (sent by the supervisor
 * when a host died between showing an answer and saving it).
 */
export type SessionCommand =
  | { kind: "chat"; id: string; channelId: string; text: string }
  | { kind: "reset"; id: string; channelId: string }
  | { kind: "record"; id: string; channelId: string; user: string; model: string };

/** How a session handled a command. */
export type SessionResult =
  | {
    ok: true;
    reply?: string;
    /**
     * The exchange is not on disk: the store refused it and holds it in memory to retry, so a
     * restart before the disk recovers would forget it. The user should be told.
     */
    unsaved?: true;
  }
  /** The reply could not be produced; the user was already told why. */
  | { ok: false; error: "not_answered" }
  /** The actor failed; it will be restarted from its persisted window. */
  | { ok: false; error: "crashed"; message: string }
  /** The bot is shutting down and the command was not started. */
  | { ok: false; error: "stopping" }
  /**
   * The actor had crashed before this command's turn, so it was not run: the host hands it to a
   * fresh actor. Never leaves the host.
   */
  | { ok: false; error: "bounced" };

/** What a session actor needs from its host. */
export interface SessionActorDeps {
  /** Where the history window is persisted, so that a restarted actor picks it up again. */
  store: SessionStore;
  /**
   * Has the broker answer `contents` and delivers the answer to the channel; resolves with the
   * text the user saw, or `undefined` when no answer could be given.
   */
  reply(commandId: string, contents: Content[]): Promise<string | undefined>;
  /** Epoch ms now, stamped on each recorded exchange. */
  now(): number;
  /** Exchanges kept in the history window; older ones are dropped. @default 20 */
  maxExchanges?: number;
}

/**
 * One channel's conversation.
 *
 * @example
 * ```ts ignore
 * const actor = new SessionActor("123", deps);
 * await actor.tell({ kind: "chat", id: "m1", channelId: "123", text: "안녕" });
 * ```
 */
export class SessionActor {
  /** The channel this actor speaks for. */
  readonly channelId: string;
  #deps: SessionActorDeps;
  #window: HistoryWindow | undefined;
  #mailbox: Mailbox<SessionCommand, SessionResult>;
  #crashed = false;
  #stopping = false;

  /** Makes the actor; its window is loaded from the store on the first command. */
  constructor(channelId: string, deps: SessionActorDeps) {
    this.channelId = channelId;
    this.#deps = deps;
    this.#mailbox = new Mailbox((command) => this.#handle(command));
  }

  /** Queues a command; resolves when it has been handled. Never rejects. */
  tell(command: SessionCommand): Promise<SessionResult> {
    return this.#mailbox.post(command);
  }

  /** Commands queued or running. */
  get pending(): number {
    return this.#mailbox.size;
  }

  /** True once a handler threw: the host must drop this actor and start a fresh one. */
  get crashed(): boolean {
    return this.#crashed;
  }

  /** Exchanges held in memory (0 before the window is loaded). */
  get windowSize(): number {
    return this.#window?.size ?? 0;
  }

  /**
   * Shutdown: lets the command being handled finish, answers the queued ones with
   * `{ ok: false, error: "stopping" }` at once, and refuses later ones. Recording an answer already
   * shown is still done. Resolves when the mailbox is empty.
   */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#mailbox.cancelQueued(
      () => ({ ok: false, error: "stopping" }),
      (command) => command.kind !== "record",
    );
    return this.#mailbox.idle();
  }

  /** Resolves when the mailbox is empty. */
  idle(): Promise<void> {
    return this.#mailbox.idle();
  }

  async #handle(command: SessionCommand): Promise<SessionResult> {
    // A crashed actor's state is suspect: what was queued behind the crash goes to a fresh one.
    if (this.#crashed) return { ok: false, error: "bounced" };
    if (this.#stopping && command.kind !== "record") return { ok: false, error: "stopping" };
    try {
      if (command.kind === "reset") {
        // Reset needs no readable window: it must work even when the stored one is damaged.
        this.#window = new HistoryWindow([], { maxExchanges: this.#deps.maxExchanges ?? 20 });
        await this.#deps.store.delete(this.channelId);
        return { ok: true };
      }
      const window = await this.#loadWindow();
      if (command.kind === "record") {
        return await this.#record(window, command.id, command.user, command.model);
      }
      const reply = await this.#deps.reply(command.id, window.toContents(command.text));
      if (reply === undefined) return { ok: false, error: "not_answered" };
      return await this.#record(window, command.id, command.text, reply);
    } catch (error) {
      this.#crashed = true;
      return {
        ok: false,
        error: "crashed",
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /** Adds an exchange and persists the window, so eviction, a crash or SIGKILL lose nothing done. */
  async #record(
    window: HistoryWindow,
    id: string,
    user: string,
    model: string,
  ): Promise<SessionResult> {
    // A record after a host crash may repeat an exchange saved just before the crash: the
    // command id tells them apart, where identical text would drop a real repeated exchange.
    if (!window.exchanges.some((e) => e.id === id)) {
      const exchange = { user, model, at: this.#deps.now(), id };
      window.add(exchange);
      const outcome = await this.#deps.store.append(this.channelId, exchange, window.maxExchanges);
      if (outcome === "unsaved") return { ok: true, reply: model, unsaved: true };
    }
    return { ok: true, reply: model };
  }

  async #loadWindow(): Promise<HistoryWindow> {
    if (!this.#window) {
      const stored: Exchange[] = await this.#deps.store.load(this.channelId);
      this.#window = new HistoryWindow(stored, { maxExchanges: this.#deps.maxExchanges ?? 20 });
    }
    return this.#window;
  }
}
