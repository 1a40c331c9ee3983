/**
 * The broker's keys: the start-up check of each key, and the refusals met on calls, which take a
 * key out of use until a later check passes ({@link KeyChecks}). Keys appear in results and events
 * by id only.
 *
 * @module
 */
import type { BrokerContext } from "./context.ts";
import { failedKeyCheck, failureStatus, isKeyRefusal } from "./failure_rules.ts";
import type { KeyCheck } from "./port.ts";
import { classifyGeminiError } from "../gemini/mod.ts";
import { KeyChecks } from "./key_checks.ts";

/** Re-exported: the broker's shared types, which this module's API is built on. */
export type * from "./context.ts";

/**
 * The broker's key checks.
 *
 * @example
 * ```ts ignore
 * const keys = new BrokerKeys(context, () => scheduler.pump());
 * for (const check of await keys.verify(() => {})) if (!check.ok) console.error(check.message);
 * ```
 */
export class BrokerKeys {
  #context: BrokerContext;
  #checks: KeyChecks;

  /**
   * Makes the checks; nothing is called until {@link verify} or a refusal. `onChecked` hears
   * when a later check ended: waiting requests may learn that the key is back.
   */
  constructor(context: BrokerContext, onChecked: () => void) {
    this.#context = context;
    this.#checks = new KeyChecks({
      pool: context.pool,
      clock: context.clock,
      // The same cheap call as the start-up check: the persona's size, which proves the key.
      check: async (apiKey) => {
        context.stats.personaTokens ??= await this.#countPersona(apiKey);
      },
      onChecked: (keyId, outcome) => {
        const status = outcome.ok ? undefined : failureStatus(classifyGeminiError(outcome.error));
        context.onEvent?.({
          type: "key_check",
          keyId,
          ok: outcome.ok,
          ...(status === undefined ? {} : { status }),
          ...(outcome.ok ? {} : { retryInMs: outcome.retryInMs }),
        });
        onChecked();
      },
    });
  }

  /**
   * Checks every key with a `countTokens` of the persona, which also measures the persona's size
   * (`stats.personaTokens`). Keys the server refuses are taken out of use; `onWorks` hears of
   * each key that works.
   */
  async verify(onWorks: (keyId: string, key: string) => void): Promise<KeyCheck[]> {
    const { pool, model, stats } = this.#context;
    return await Promise.all(
      pool.keys().map(async ({ keyId, key }): Promise<KeyCheck> => {
        try {
          const tokens = await this.#countPersona(key);
          stats.personaTokens ??= tokens;
          onWorks(keyId, key);
          return { keyId, ok: true, message: `${keyId} works; the persona is ${tokens} tokens` };
        } catch (error) {
          const failure = classifyGeminiError(error);
          if (isKeyRefusal(failure)) this.refused(keyId, failure.status);
          return failedKeyCheck(keyId, key, model, failure, error);
        }
      }),
    );
  }

  /** The server refused `keyId` with `status`: out of use until a check passes. */
  refused(keyId: string, status: number): void {
    this.#context.stats.keyRejections++;
    this.#context.onEvent?.({ type: "key_rejected", keyId, status });
    this.#checks.refused(keyId);
  }

  /** Cancels the checks not yet started and waits for those running. */
  stop(): Promise<void> {
    return this.#checks.stop();
  }

  #countPersona(apiKey: string): Promise<number> {
    const { client, model, systemInstruction, settings } = this.#context;
    return client.countTokens({ apiKey, model, systemInstruction, deadlineMs: settings.timeoutMs });
  }
}
