/**
 * The sliding window of a conversation: the last N user/model exchanges, oldest first.
 *
 * @module
 */

/** One side of a conversation. */
export interface Turn {
  /** Who spoke: the user, or the bot's model. */
  role: "user" | "model";
  /** What was said. */
  text: string;
}

/** One Gemini `contents` entry. */
export interface Content {
  /** Who spoke: the user, or the bot's model. */
  role: "user" | "model";
  /** The turn's text, as Gemini's one-part list. */
  parts: { text: string }[];
}

/** A user's line and the model's answer to it. */
export interface Exchange {
  /** The user's line. */
  user: string;
  /** The answer the user was shown. */
  model: string;
  /** Epoch ms when the exchange completed. */
  at: number;
  /**
   * The command (the user's Discord message id) that produced it, so that an answer recorded
   * again after a host crash is kept once, while two identical exchanges are both kept.
   */
  id?: string;
}

/** Options for {@linkcode HistoryWindow}. */
export interface HistoryWindowOptions {
  /**
   * The most exchanges kept; adding more drops the oldest.
   * @default {20}
   */
  maxExchanges?: number;
}

/** Exchanges a conversation window holds: the one source of the product's "last 20 exchanges". */
export const WINDOW_EXCHANGES = 20;

/**
 * A bounded conversation history that renders as Gemini `contents`.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const history = new HistoryWindow([], { maxExchanges: 20 });
 * history.add({ user: "안녕", model: "안녕하세요!", at: 0 });
 * deepStrictEqual(history.toContents("뭐 해?").map((c) => c.role), ["user", "model", "user"]);
 * ```
 */
export class HistoryWindow {
  /** The most exchanges kept. */
  readonly maxExchanges: number;
  #exchanges: Exchange[];

  /** Starts from stored `exchanges` (oldest first), keeping only the newest `maxExchanges`. */
  constructor(exchanges: readonly Exchange[] = [], options: HistoryWindowOptions = {}) {
    const { maxExchanges = WINDOW_EXCHANGES } = options;
    if (!Number.isInteger(maxExchanges) || maxExchanges < 1) {
      throw new RangeError(
        `Cannot create HistoryWindow as 'maxExchanges' must be a positive integer: current value is ${maxExchanges}`,
      );
    }
    this.maxExchanges = maxExchanges;
    this.#exchanges = exchanges.slice(-maxExchanges);
  }

  /** Appends an exchange, dropping the oldest beyond `maxExchanges`. */
  add(exchange: Exchange): void {
    this.#exchanges.push(exchange);
    if (this.#exchanges.length > this.maxExchanges) {
      this.#exchanges.splice(0, this.#exchanges.length - this.maxExchanges);
    }
  }

  /** A snapshot of the exchanges, oldest first; later changes to the window do not show in it. */
  get exchanges(): readonly Exchange[] {
    return [...this.#exchanges];
  }

  /** How many exchanges are held. */
  get size(): number {
    return this.#exchanges.length;
  }

  /**
   * Gemini `contents`: alternating user and model turns, oldest first, then `next` as a user turn.
   *
   * An exchange with a blank side is left out whole, since Gemini rejects empty text parts and
   * expects the roles to alternate.
   */
  toContents(next?: string): Content[] {
    const turns: Turn[] = [];
    for (const { user, model } of this.#exchanges) {
      if (user.trim() === "" || model.trim() === "") continue;
      turns.push({ role: "user", text: user }, { role: "model", text: model });
    }
    if (next !== undefined) turns.push({ role: "user", text: next });
    return turns.map(({ role, text }) => ({ role, parts: [{ text }] }));
  }
}
