/**
 * The window of a conversation: the last exchanges, oldest first, after the channel's running
 * memory.
 *
 * The window drops its oldest exchanges in blocks rather than one a turn. Gemini caches a
 * repeated prompt prefix implicitly, and a window that slides every turn changes the prompt right
 * after the persona, so no turn ever hits; a window that drops ten at once keeps the same start
 * for the next ten turns. The exchanges that leave wait in {@linkcode HistoryWindow.pending} until
 * a fold (`lib/sessions/memory_fold.ts`) has written them into the running memory.
 *
 * @module
 */
import type { Content, ModelPart } from "../gemini/mod.ts";
import { MEMORY_ACK, MEMORY_PREAMBLE } from "../text/prompts.ts";

/** Re-exported: the window hands Gemini's own `contents` type to the session actors. */
export type { Content, ModelPart };

/** One side of a conversation. */
export interface Turn {
  /** Who spoke: the user, or the bot's model. */
  role: "user" | "model";
  /** What was said. */
  text: string;
}

/** A user's line and the model's answer to it. */
export interface Exchange {
  /** The user's line. */
  user: string;
  /** The answer the user was shown. */
  model: string;
  /**
   * The model's turn as Gemini sent it (thought signatures included, and whatever parts a later
   * feature adds, such as search tool calls), sent back in place of `model` in later prompts;
   * absent when the user saw less than the whole answer, and on exchanges stored before it.
   */
  modelParts?: ModelPart[];
  /** Epoch ms when the exchange completed. */
  at: number;
  /**
   * The command (the user's Discord message id) that produced it, so that an answer recorded
   * again after a host crash is kept once, while two identical exchanges are both kept.
   */
  id?: string;
}

/** The most exchanges a window holds, unless configured otherwise: the one source of "20". */
export const MAX_EXCHANGES = 20;

/** Options for {@linkcode HistoryWindow}. */
export interface HistoryWindowOptions {
  /**
   * The most exchanges kept in the prompt; adding one more drops the oldest block.
   * @default {MAX_EXCHANGES}
   */
  maxExchanges?: number;
  /**
   * How many of the oldest exchanges leave together when the window overflows; 1 slides the
   * window by one exchange a turn. From 1 to `maxExchanges`. The bot's setting is
   * `WINDOW_DROP_BLOCK` (lib/config/config.ts).
   * @default {1}
   */
  dropBlock?: number;
  /**
   * The most exchanges that left the window and still wait to be folded into the memory; beyond
   * it the oldest block is forgotten unfolded, so a fold that keeps failing cannot grow the store
   * without bound. 0 keeps none (no running memory).
   * @default {maxExchanges}
   */
  maxPending?: number;
  /** The channel's running memory, as stored with the window. @default "" */
  memory?: string;
}

/**
 * A bounded conversation history with a running memory, rendered as Gemini `contents`.
 *
 * @example Usage
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * const history = new HistoryWindow([], { maxExchanges: 4, dropBlock: 2 });
 * for (let i = 1; i <= 4; i++) history.add({ user: `q${i}`, model: `a${i}`, at: i });
 * const left = history.add({ user: "q5", model: "a5", at: 5 });
 * deepStrictEqual(left.map((e) => e.user), ["q1", "q2"]);
 * strictEqual(history.size, 3);
 * history.commitFold("- q1, q2 were asked", left);
 * deepStrictEqual(history.toContents("q6").map((c) => c.role), [
 *   "user", "model", // the memory
 *   "user", "model", "user", "model", "user", "model", // q3..q5
 *   "user", // q6
 * ]);
 * ```
 */
export class HistoryWindow {
  /** The most exchanges kept in the prompt. */
  readonly maxExchanges: number;
  /** How many exchanges leave the window at once. */
  readonly dropBlock: number;
  /** The most exchanges waiting for a fold. */
  readonly maxPending: number;
  #exchanges: Exchange[];
  #pending: Exchange[];
  #memory: string;

  /**
   * Starts from stored `exchanges` (oldest first): the exchanges not folded yet, as
   * {@linkcode HistoryWindow.storedSize} told the store to keep. The newest of them form the
   * window, the rest are pending; how many are in the window follows from the count alone,
   * because a window that drops in blocks always holds between `maxExchanges - dropBlock + 1`
   * and `maxExchanges` once it first overflowed.
   */
  constructor(exchanges: readonly Exchange[] = [], options: HistoryWindowOptions = {}) {
    const { maxExchanges = MAX_EXCHANGES } = options;
    positiveInteger("maxExchanges", maxExchanges);
    const { dropBlock = 1, maxPending = maxExchanges } = options;
    positiveInteger("dropBlock", dropBlock);
    if (dropBlock > maxExchanges) {
      throw new RangeError(
        `Cannot create HistoryWindow as 'dropBlock' must be at most 'maxExchanges' (${maxExchanges}): current value is ${dropBlock}`,
      );
    }
    if (!Number.isInteger(maxPending) || maxPending < 0) {
      throw new RangeError(
        `Cannot create HistoryWindow as 'maxPending' must be a whole number of 0 or more: current value is ${maxPending}`,
      );
    }
    this.maxExchanges = maxExchanges;
    this.dropBlock = dropBlock;
    this.maxPending = maxPending;
    this.#memory = options.memory ?? "";
    const inWindow = windowSizeFor(exchanges.length, maxExchanges, dropBlock);
    this.#exchanges = exchanges.slice(exchanges.length - inWindow);
    this.#pending = exchanges.slice(0, exchanges.length - inWindow);
    this.#capPending();
  }

  /**
   * Appends an exchange. When that overflows the window, the oldest `dropBlock` exchanges leave
   * it: they are returned (oldest first) and wait in {@linkcode pending} for a fold. Most calls
   * return an empty list.
   */
  add(exchange: Exchange): Exchange[] {
    this.#exchanges.push(exchange);
    if (this.#exchanges.length <= this.maxExchanges) return [];
    const left = this.#exchanges.splice(0, this.dropBlock);
    this.#pending.push(...left);
    this.#capPending();
    return left;
  }

  /**
   * Records a successful fold: `memory` replaces the running memory, and the pending exchanges
   * up to the last of `folded` leave. Returns how many left. Exchanges added to `pending` while
   * the fold ran stay for the next one.
   *
   * The caller must drop a fold that began before a `/reset`: this window cannot tell that
   * `folded` belonged to the conversation that was wiped.
   */
  commitFold(memory: string, folded: readonly Exchange[]): number {
    this.#memory = memory;
    const last = folded.at(-1);
    const through = last === undefined ? -1 : this.#pending.lastIndexOf(last);
    const gone = through === -1 ? this.#pending.findIndex((e) => sameExchange(e, last)) : through;
    const count = gone + 1;
    this.#pending.splice(0, count);
    return count;
  }

  /** A snapshot of the exchanges in the window, oldest first. */
  get exchanges(): readonly Exchange[] {
    return [...this.#exchanges];
  }

  /** A snapshot of the exchanges that left the window and wait to be folded, oldest first. */
  get pending(): readonly Exchange[] {
    return [...this.#pending];
  }

  /** The channel's running memory; empty until the first fold. */
  get memory(): string {
    return this.#memory;
  }

  /** How many exchanges are in the window. */
  get size(): number {
    return this.#exchanges.length;
  }

  /**
   * How many exchanges the store must keep for this window: the pending ones and the window's,
   * which are the newest. Pass it as the store's `keep`.
   */
  get storedSize(): number {
    return this.#pending.length + this.#exchanges.length;
  }

  /** Whether an exchange with this command id is held, in the window or pending. */
  has(id: string): boolean {
    return this.#exchanges.some((e) => e.id === id) || this.#pending.some((e) => e.id === id);
  }

  /**
   * Gemini `contents`: the running memory as the first user/model pair, then alternating user
   * and model turns, oldest first, then `next` as a user turn.
   *
   * The memory comes first because it changes only at a fold, as the window's start does: the
   * persona, the memory and the window's exchanges form a prefix that holds still between folds,
   * which is what the implicit cache needs. An exchange with a blank side is left out whole,
   * since Gemini rejects empty text parts and expects the roles to alternate.
   */
  toContents(next?: string): Content[] {
    const contents: Content[] = [];
    const say = (role: Turn["role"], text: string) => contents.push({ role, parts: [{ text }] });
    if (this.#memory.trim() !== "") {
      say("user", `${MEMORY_PREAMBLE}\n${this.#memory}`);
      say("model", MEMORY_ACK);
    }
    for (const { user, model, modelParts } of this.#exchanges) {
      if (user.trim() === "" || model.trim() === "") continue;
      say("user", user);
      // The model's turn goes back as Gemini sent it, signatures included (Google's contract).
      if (modelParts?.length) {
        contents.push({ role: "model", parts: modelParts.map((p) => ({ ...p })) });
      } else say("model", model);
    }
    if (next !== undefined) say("user", next);
    return contents;
  }

  /**
   * Forgets the oldest pending blocks while there are more than `maxPending`. Whole blocks, so
   * the store's count still tells the window from the pending exchanges after a restart.
   */
  #capPending(): void {
    while (this.#pending.length > this.maxPending) this.#pending.splice(0, this.dropBlock);
  }
}

/**
 * A stored model turn's parts, or undefined when there are none or they cannot be read (the turn
 * then goes back as its text, as an older row's does).
 *
 * @example
 * ```ts
 * import { modelPartsFrom } from "./window.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(modelPartsFrom('[{"text":"hi","thoughtSignature":"c2ln"}]'), [
 *   { text: "hi", thoughtSignature: "c2ln" },
 * ]);
 * assert.equal(modelPartsFrom(null), undefined);
 * assert.equal(modelPartsFrom("not json"), undefined);
 * ```
 */
export function modelPartsFrom(json: unknown): ModelPart[] | undefined {
  if (typeof json === "string") {
    try {
      return modelPartsFrom(JSON.parse(json));
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(json) || json.length === 0) return undefined;
  const parts = json.filter((part) =>
    typeof part === "object" && part !== null && !Array.isArray(part)
  );
  return parts.length === json.length ? parts as ModelPart[] : undefined;
}

/**
 * How many of `stored` unfolded exchanges are in the window: all of them up to `max`; past it,
 * the count that adding one at a time with block drops leaves, `max - block + 1` to `max`.
 */
function windowSizeFor(stored: number, max: number, block: number): number {
  if (stored <= max) return stored;
  const least = max - block + 1;
  return least + ((stored - least) % block);
}

function sameExchange(a: Exchange, b: Exchange | undefined): boolean {
  return b !== undefined && a.at === b.at && a.id === b.id && a.user === b.user &&
    a.model === b.model;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot create HistoryWindow as '${name}' must be a positive integer: current value is ${value}`,
    );
  }
}
