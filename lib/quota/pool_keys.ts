/**
 * The token pool's keys: each API key with its id (`key1`, `key2`, … in the configured order),
 * its circuit breaker and its refusal state, and the {@link ProjectQuota} it counts against, which
 * the keys of one project (key group) share.
 *
 * @module
 */
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { newProjectQuota, type ProjectQuota } from "./project_quota.ts";
import type { KeyBudget } from "./port.ts";

/** One key as the pool tracks it. */
export interface KeyState {
  /** The API key itself. */
  key: string;
  /** Its id in logs and results: `key1`, `key2`, …. */
  keyId: string;
  /** The project's quota; shared with the other keys of its group. */
  quota: ProjectQuota;
  /** The group's name as configured; undefined for a key of its own. */
  project: string | undefined;
  /** What the shared quota is counted under: the project's, which its keys share. */
  shareId: string;
  /** Refused by the server: out of use until enabled again. */
  disabled: boolean;
  /** When a disabled key is next checked. */
  checkAt: number;
  /** Opens after consecutive failures of this key. */
  breaker: CircuitBreaker;
}

/** How {@linkcode keyStates} groups the keys and builds their breakers. */
export interface KeyStateOptions extends CircuitBreakerOptions {
  /** The project of each key, by position; undefined or missing: a key of its own. */
  projects?: readonly (string | undefined)[];
}

/**
 * The state of each of `keys`: one quota per project (windows `windowMs` long), one per plain key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const [a, b] = keyStates(["k1", "k2"], { rpm: 5, tpm: 1000, rpd: 50 }, 61_000, {
 *   projects: ["p", "p"],
 * });
 * assert.equal(a.quota, b.quota);
 * assert.equal(b.shareId, "project:p");
 * ```
 */
export function keyStates(
  keys: readonly string[],
  budget: KeyBudget,
  windowMs: number,
  options: KeyStateOptions = {},
): KeyState[] {
  const quotas = new Map<string, ProjectQuota>();
  const newQuota = () => newProjectQuota(budget, windowMs);
  return keys.map((key, i) => {
    const project = options.projects?.[i];
    let quota = project === undefined ? newQuota() : quotas.get(project);
    if (quota === undefined) quotas.set(project!, quota = newQuota());
    return {
      key,
      keyId: `key${i + 1}`,
      quota,
      project,
      shareId: project === undefined ? `key${i + 1}` : `project:${project}`,
      disabled: false,
      checkAt: 0,
      breaker: new CircuitBreaker(options),
    };
  });
}
