/**
 * One Gemini call under a silence deadline: the call is cut when it sends nothing for a while,
 * however long a healthy stream runs. Resolves with the outcome; never rejects.
 *
 * @module
 */
import type { Clock, TimerId } from "../clock.ts";
import {
  type GeminiClient,
  GeminiTimeoutError,
  type GenerateRequest,
  type GenerateResult,
} from "./port.ts";

/** Re-exported: the port and the clock this module's API is built on. */
export type * from "../clock.ts";
export type * from "./port.ts";

/** How a call ended: its result, or its error and the text that had reached the caller. */
export type CallOutcome =
  | { ok: true; result: GenerateResult }
  | { ok: false; error: unknown; streamed: string };

/** Options for {@linkcode callWithSilenceLimit}. */
export interface SilenceLimitOptions {
  /** The clock of the deadlines. */
  clock: Clock;
  /** Aborts the call; the deadline aborts it with a {@link GeminiTimeoutError}, others may too. */
  abort: AbortController;
  /** Milliseconds the call may wait for its first chunk. */
  firstChunkMs: number;
  /** Milliseconds the call may go without a chunk once it streams. */
  idleMs: number;
  /** The answer so far, on each chunk; never after the call was aborted. */
  onText?(textSoFar: string): void;
}

/**
 * Makes the call: a timer runs from the start to the first chunk (`firstChunkMs`), then restarts
 * at each chunk (`idleMs`), so a stream that keeps coming is never cut.
 *
 * @example
 * ```ts
 * import { callWithSilenceLimit } from "./call.ts";
 * import { ManualClock } from "../clock.ts";
 * import assert from "node:assert/strict";
 *
 * const usage = { promptTokens: 1, cachedTokens: 0, outputTokens: 1, thinkingTokens: 0 };
 * const client = { generate: () => Promise.resolve({ text: "hi", usage, finishReason: "STOP" }) };
 * const outcome = await callWithSilenceLimit(client, { apiKey: "k", model: "m", contents: [] }, {
 *   clock: new ManualClock(0),
 *   abort: new AbortController(),
 *   firstChunkMs: 1000,
 *   idleMs: 1000,
 * });
 * assert.equal(outcome.ok && outcome.result.text, "hi");
 * ```
 */
export async function callWithSilenceLimit(
  client: Pick<GeminiClient, "generate">,
  request: Omit<GenerateRequest, "signal" | "onText">,
  options: SilenceLimitOptions,
): Promise<CallOutcome> {
  const { clock, abort, idleMs } = options;
  let timer: TimerId | undefined;
  const arm = (ms: number) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => abort.abort(new GeminiTimeoutError(ms)), ms);
  };
  let streamed = "";
  arm(options.firstChunkMs);
  try {
    const result = await client.generate({
      ...request,
      signal: abort.signal,
      onText: (text) => {
        // A call given up on shows nothing more, whatever its client does.
        if (abort.signal.aborted) return;
        streamed = text;
        arm(idleMs);
        options.onText?.(text);
      },
    });
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error, streamed };
  } finally {
    clock.clearTimeout(timer);
  }
}
