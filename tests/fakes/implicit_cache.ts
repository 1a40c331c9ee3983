/**
 * Gemini's implicit caching, as documented for 2.5 and newer: a request whose leading tokens (the
 * system instruction, then the contents) repeat a recent request's is billed with those tokens as
 * `cachedContentTokenCount`, when they are at least the model's minimum.
 *
 * The fake has no tokenizer, so "leading tokens" are measured on its own count: whole parts
 * that match count their tokens, and the first part that differs counts the tokens of the text
 * it shares with the other request's part. Requests are compared per API key (the real cache is
 * per project) and per model.
 *
 * @module
 */

/** One part of a prompt, in order: the system instruction's parts, then each content's. */
export interface PromptPart {
  /** "system", "user" or "model": a part only matches a part of the same role. */
  role: string;
  /** The part's text, or a stand-in for a non-text part. */
  text: string;
}

/** Options for {@linkcode ImplicitCache}. */
export interface ImplicitCacheOptions {
  /** How long a request's prefix stays reusable, in ms. @default {300000} (5 minutes) */
  ttlMs?: number;
  /** The most recent requests remembered per key and model. @default {256} */
  maxEntries?: number;
}

interface Entry {
  parts: PromptPart[];
  at: number;
}

/**
 * Remembers recent prompts and tells how many leading tokens a new one shares with them.
 *
 * @example
 * ```ts ignore
 * const cache = new ImplicitCache(estimateTokens);
 * cache.lookup("key/model", parts, now, 1024); // 0 the first time, then the shared prefix
 * ```
 */
export class ImplicitCache {
  #count: (text: string) => number;
  #ttlMs: number;
  #maxEntries: number;
  #entries = new Map<string, Entry[]>();

  /** Counts tokens with `count`, the fake's own estimate. */
  constructor(count: (text: string) => number, options: ImplicitCacheOptions = {}) {
    this.#count = count;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#maxEntries = options.maxEntries ?? 256;
  }

  /**
   * The tokens of `parts` served from the cache: the longest prefix shared with a request of the
   * same `scope` in the last `ttlMs`, or 0 when that is under `minTokens`. Then remembers `parts`.
   */
  lookup(scope: string, parts: readonly PromptPart[], now: number, minTokens: number): number {
    const recent = (this.#entries.get(scope) ?? []).filter((e) => now - e.at <= this.#ttlMs);
    let best = 0;
    for (const entry of recent) best = Math.max(best, this.#sharedTokens(entry.parts, parts));
    recent.push({ parts: [...parts], at: now });
    this.#entries.set(scope, recent.slice(-this.#maxEntries));
    return best >= minTokens ? best : 0;
  }

  #sharedTokens(a: readonly PromptPart[], b: readonly PromptPart[]): number {
    let tokens = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i].role !== b[i].role) break;
      if (a[i].text === b[i].text) {
        tokens += this.#count(a[i].text);
        continue;
      }
      tokens += this.#count(commonPrefix(a[i].text, b[i].text));
      break;
    }
    return tokens;
  }
}

/** The longest common start of two strings, never splitting a surrogate pair. */
function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i > 0 && i < a.length && /[\uD800-\uDBFF]/.test(a[i - 1])) i--;
  return a.slice(0, i);
}
