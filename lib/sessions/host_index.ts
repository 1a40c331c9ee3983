/**
 * Placement: which worker host a channel's session lives on. Pure, so every part that must agree
 * on it (the session layer, its tests, the benchmarks) computes the same answer.
 *
 * @module
 */

/**
 * The host a channel is placed on: a stable hash (FNV-1a), so a channel always lands on one host.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(hostIndex("42", 2), hostIndex("42", 2));
 * ```
 */
export function hostIndex(channelId: string, hosts: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < channelId.length; i++) {
    hash = Math.imul(hash ^ channelId.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % hosts;
}
