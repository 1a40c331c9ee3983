/**
 * SessionActor: one per channel. It owns the channel's history window and handles the channel's
 * turns one at a time, in order, through its own mailbox.
 *
 * A chat turn is a loan: the actor notes the turn as in flight (durably, so a killed process can
 * tell the user later), lends its window to the turn, and holds its mailbox until the turn hands
 * back the text the user saw, which it records. The broker and Discord live on the main thread;
 * the actor never calls them.
 *
 * Exchanges that leave the window wait (stored) to be folded into the channel's running memory.
 * The actor cannot ask the broker itself, so a commit that leaves some waiting hands them to its
 * turn as a fold to do; the turn asks the broker and sends the new memory back as a `remember`
 * command, through the mailbox like any other. One fold is out at a time per actor.
 *
 * @module
 */
import { type Content, type Exchange, HistoryWindow } from "../../lib/sessions/window.ts";
import { type FoldTask, type Shown, shownParts } from "../../lib/sessions/port.ts";
import type { SessionStore } from "../../lib/store/sqlite.ts";
import { Mailbox } from "./mailbox.ts";

/**
 * A message for a session: begin a chat turn with the user's line, forget the conversation, or
 * take the result of fold `id` (`undefined`: the fold failed).
 */
export type SessionCommand =
  | { kind: "begin"; id: string; line: string }
  | { kind: "reset"; id: string }
  | { kind: "remember"; id: string; memory: string | undefined };

/** How a session handled a command. */
export type SessionResult =
  /**
   * Done: for a turn, `recorded` says whether an exchange was kept, and `unsaved` that the store
   * refused it and holds it in memory to retry, so a restart before the disk recovers would
   * forget it: the user should be told. `fold`: exchanges wait to be folded, and the turn is to
   * do it.
   */
  | { ok: true; recorded?: boolean; unsaved?: true; fold?: FoldTask }
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
   * Lends turn `id` the window as Gemini `contents`; resolves with the text the user saw, to be
   * recorded, or `undefined` when nothing worth keeping was shown. The mailbox waits meanwhile.
   */
  lend(id: string, contents: Content[]): Promise<Shown>;
  /** Epoch ms now, stamped on each recorded exchange. */
  now(): number;
  /** Exchanges kept in the history window; older ones leave it, to be folded. */
  maxExchanges: number;
  /** Exchanges that leave a full window at once (`WINDOW_DROP_BLOCK`). @default 1 */
  dropBlock?: number;
}

/**
 * One channel's conversation.
 *
 * @example
 * ```ts ignore
 * const actor = new SessionActor("123", deps);
 * await actor.tell({ kind: "begin", id: "m1", line: "민수: 안녕" });
 * ```
 */
export class SessionActor {
  /** The channel this actor speaks for. */
  readonly channelId: string;
  #deps: SessionActorDeps;
  #window: HistoryWindow | undefined;
  /** The fold handed out and not remembered yet: its id and the very exchanges it folds. */
  #folding: { id: string; exchanges: readonly Exchange[] } | undefined;
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
   * Shutdown: lets the turn being handled finish, answers the queued commands with
   * `{ ok: false, error: "stopping" }` at once, and refuses later ones. Resolves when the mailbox
   * is empty.
   */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#mailbox.cancelQueued(() => ({ ok: false, error: "stopping" }));
    return this.#mailbox.idle();
  }

  /** Resolves when the mailbox is empty. */
  idle(): Promise<void> {
    return this.#mailbox.idle();
  }

  async #handle(command: SessionCommand): Promise<SessionResult> {
    // A crashed actor's state is suspect: what was queued behind the crash goes to a fresh one.
    if (this.#crashed) return { ok: false, error: "bounced" };
    if (this.#stopping) return { ok: false, error: "stopping" };
    try {
      if (command.kind === "reset") {
        // Reset needs no readable window: it must work even when the stored one is damaged.
        // The fold out, if any, belonged to the conversation being wiped: its result is dropped.
        this.#window = this.#newWindow([], "");
        this.#folding = undefined;
        await this.#deps.store.delete(this.channelId);
        return { ok: true };
      }
      if (command.kind === "remember") return await this.#remember(command.id, command.memory);
      return await this.#turn(command.id, command.line);
    } catch (error) {
      this.#crashed = true;
      return {
        ok: false,
        error: "crashed",
        message: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /** One chat turn: note it, lend the window, record what the user saw. */
  async #turn(id: string, line: string): Promise<SessionResult> {
    const { store, now } = this.#deps;
    const window = await this.#loadWindow();
    // Noted before the answer is asked for, so that a killed process can tell the user later.
    await store.beginTurn(this.channelId, id, now());
    const { text: shown, parts } = shownParts(await this.#deps.lend(id, window.toContents(line)));
    // A turn lent again after a host crash may have been recorded just before the crash: the id
    // tells them apart, where identical text would drop a real repeated exchange.
    const alreadyRecorded = window.has(id);
    if (shown === undefined || alreadyRecorded) {
      await store.endTurn(this.channelId, id);
      // The exchange is in the history either way: saying "recorded" only when this host wrote
      // it would make a commit's result depend on whether the old host died before or after.
      return { ok: true, recorded: alreadyRecorded, ...this.#offerFold(id, window) };
    }
    const exchange: Exchange = { user: line, model: shown, at: now(), id };
    if (parts) exchange.modelParts = parts;
    window.add(exchange);
    // Appending ends the turn in the same transaction. The store keeps the pending exchanges
    // too, so that a restart before their fold still has them to fold.
    const outcome = await store.append(this.channelId, exchange, window.storedSize);
    return {
      ok: true,
      recorded: true,
      ...(outcome === "unsaved" ? { unsaved: true } : {}),
      ...this.#offerFold(id, window),
    };
  }

  /**
   * The fold for turn `turnId` to do, when exchanges wait to be folded and no fold is out. A fold
   * that failed, or was lost with a restart, is offered again this way at a later commit.
   */
  #offerFold(turnId: string, window: HistoryWindow): { fold?: FoldTask } {
    if (this.#folding || window.pending.length === 0) return {};
    const exchanges = window.pending;
    this.#folding = { id: `fold:${turnId}`, exchanges };
    return { fold: { id: this.#folding.id, memory: window.memory, exchanges: [...exchanges] } };
  }

  /** Takes a fold's result: the new memory replaces the old, and the folded exchanges leave. */
  async #remember(foldId: string, memory: string | undefined): Promise<SessionResult> {
    const folding = this.#folding;
    // Not the fold out: one from before a /reset, or from an actor that has since restarted.
    if (!folding || folding.id !== foldId || !this.#window) return { ok: true };
    this.#folding = undefined;
    // A failed fold keeps the old memory; the exchanges stay pending for the next offer.
    if (memory === undefined) return { ok: true };
    this.#window.commitFold(memory, folding.exchanges);
    await this.#deps.store.saveMemory(this.channelId, memory, this.#window.storedSize);
    return { ok: true };
  }

  async #loadWindow(): Promise<HistoryWindow> {
    if (!this.#window) {
      const { store } = this.#deps;
      const stored = await store.load(this.channelId);
      this.#window = this.#newWindow(stored, await store.loadMemory(this.channelId));
    }
    return this.#window;
  }

  #newWindow(stored: Exchange[], memory: string): HistoryWindow {
    const { maxExchanges, dropBlock } = this.#deps;
    return new HistoryWindow(stored, { maxExchanges, dropBlock, memory });
  }
}
