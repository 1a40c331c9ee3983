/**
 * The broker's keys: the start-up check of each key, and the refusals met on calls, which take a
 * key out of use until a later check passes ({@link KeyChecks}). Keys appear in results and events
 * by id only.
 *
 * @module
 */
import type { BrokerEvent, BrokerStats, KeyCheck } from "./broker_port.ts";
import { failedKeyCheck, failureStatus, isKeyRefusal } from "./broker_failure_rules.ts";
import type { Clock } from "./clock.ts";
import { classifyGeminiError } from "./gemini_errors.ts";
import type { GeminiClient } from "./gemini_port.ts";
import { KeyChecks } from "./key_checks.ts";
import type { TokenPool } from "./token_pool.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { BrokerEvent, BrokerFailure, BrokerStats, KeyCheck } from "./broker_port.ts";
export type { Clock, TimerId } from "./clock.ts";
export type {
  CachedPrompt,
  Content,
  GeminiClient,
  GenerateRequest,
  GenerateResult,
  Usage,
} from "./gemini_port.ts";
export type {
  KeyBudget,
  KeyStatus,
  QuotaDimension,
  Reservation,
  ReserveResult,
  TokenPool,
} from "./token_pool.ts";

/** Options for {@linkcode BrokerKeys}. */
export interface BrokerKeysOptions {
  /** Counts the persona's tokens: the cheap call that proves a key. */
  client: Pick<GeminiClient, "countTokens">;
  /** The keys, where refused ones are taken out of use and put back. */
  pool: Pick<TokenPool, "keys" | "disable" | "enable">;
  /** The Gemini model name. */
  model: string;
  /** The persona, whose size each check measures. */
  systemInstruction: string;
  /** Deadline of each check, in milliseconds. */
  deadlineMs: number;
  /** The broker's clock, for the checks' schedule. */
  clock: Clock;
  /** Where `keyRejections` is counted and `personaTokens` set once known. */
  stats: Pick<BrokerStats, "keyRejections" | "personaTokens">;
  /** Told of each refusal and each later check. */
  onEvent?(event: BrokerEvent): void;
  /** A later check ended: waiting requests may learn that the key is back. */
  onChecked(): void;
}

/**
 * The broker's key checks.
 *
 * @example
 * ```ts ignore
 * const keys = new BrokerKeys({ client, pool, model, systemInstruction, deadlineMs: 30_000,
 *   clock, stats, onChecked: () => scheduler.pump() });
 * for (const check of await keys.verify(() => {})) if (!check.ok) console.error(check.message);
 * ```
 */
export class BrokerKeys {
  #options: BrokerKeysOptions;
  #checks: KeyChecks;

  /** Makes the checks; nothing is called until {@link verify} or a refusal. */
  constructor(options: BrokerKeysOptions) {
    this.#options = options;
    this.#checks = new KeyChecks({
      pool: options.pool,
      clock: options.clock,
      check: async (apiKey) => {
        options.stats.personaTokens ??= await this.#countPersona(apiKey);
      },
      onChecked: (keyId, outcome) => {
        const status = outcome.ok ? undefined : failureStatus(classifyGeminiError(outcome.error));
        options.onEvent?.({
          type: "key_check",
          keyId,
          ok: outcome.ok,
          ...(status === undefined ? {} : { status }),
          ...(outcome.ok ? {} : { retryInMs: outcome.retryInMs }),
        });
        options.onChecked();
      },
    });
  }

  /**
   * Checks every key with a `countTokens` of the persona, which also measures the persona's size
   * (`stats.personaTokens`). Keys the server refuses are taken out of use; `onWorks` hears of
   * each key that works.
   */
  async verify(onWorks: (keyId: string, key: string) => void): Promise<KeyCheck[]> {
    const { pool, model, stats } = this.#options;
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
    this.#options.stats.keyRejections++;
    this.#options.onEvent?.({ type: "key_rejected", keyId, status });
    this.#checks.refused(keyId);
  }

  /** Cancels the checks not yet started and waits for those running. */
  stop(): Promise<void> {
    return this.#checks.stop();
  }

  #countPersona(apiKey: string): Promise<number> {
    const { client, model, systemInstruction, deadlineMs } = this.#options;
    return client.countTokens({ apiKey, model, systemInstruction, deadlineMs });
  }
}
