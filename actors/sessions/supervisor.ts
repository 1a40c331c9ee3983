/**
 * Supervisor: applies the {@link SupervisorPolicy} and nothing else. It keeps the live sessions
 * in least-recently-used order, says which to evict past the cap and which to reap when idle, and
 * counts host restarts in a sliding window, as OTP's `add_restart` does: past the intensity it
 * gives up, and the process should exit non-zero so that its orchestrator restarts it.
 *
 * It does no I/O and routes no messages: `actors/sessions/sessions.ts` asks it and acts on its answers.
 *
 * @module
 */
import { RestartIntensity } from "../../lib/sessions/restart_intensity.ts";
import type { SupervisorPolicy } from "../../lib/sessions/supervisor_policy.ts";

/** Re-exported because the constructor takes it. */
export type { SupervisorPolicy };

/** Running totals since start, for `/status` and metrics. */
export interface SupervisorCounts {
  /** Sessions evicted by the LRU cap. */
  evicted: number;
  /** Sessions reaped for being idle. */
  reaped: number;
  /** Host restarts. */
  restarted: number;
  /** Session actors that crashed and were restarted from the store. */
  crashed: number;
}

interface Live {
  lastActive: number;
  /** Turns begun and not yet done: a busy session is never evicted. */
  busy: number;
}

/**
 * The supervision policy, applied.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * import { DEFAULT_SUPERVISOR_POLICY } from "../../lib/sessions/supervisor_policy.ts";
 * const supervisor = new Supervisor({ ...DEFAULT_SUPERVISOR_POLICY, maxSessions: 1 });
 * supervisor.busy("a", 0);
 * supervisor.done("a", 1);
 * deepStrictEqual(supervisor.busy("b", 2), ["a"]); // over the cap: "a" is evicted
 * ```
 */
export class Supervisor {
  /** The policy in force. */
  readonly policy: SupervisorPolicy;
  /** Insertion order is recency order: a used session is moved to the end. */
  #live = new Map<string, Live>();
  #intensity: RestartIntensity;
  #counts: SupervisorCounts = { evicted: 0, reaped: 0, restarted: 0, crashed: 0 };

  /** Starts with no live sessions and no restarts. */
  constructor(policy: SupervisorPolicy) {
    this.policy = policy;
    this.#intensity = new RestartIntensity({
      maxRestarts: policy.intensity,
      periodMs: policy.periodMs,
    });
  }

  /** Live sessions. */
  get liveSessions(): number {
    return this.#live.size;
  }

  /** Channel ids of live sessions, least recently used first. */
  get lruOrder(): string[] {
    return [...this.#live.keys()];
  }

  /** Running totals since start. */
  get counts(): Readonly<SupervisorCounts> {
    return this.#counts;
  }

  /**
   * A turn begins in `channelId`: its session is live, most recently used and busy. Returns the
   * idle sessions to evict to keep within `maxSessions`, already forgotten here.
   */
  busy(channelId: string, now: number): string[] {
    const live = this.#live.get(channelId) ?? { lastActive: now, busy: 0 };
    this.#live.delete(channelId);
    live.lastActive = now;
    live.busy++;
    this.#live.set(channelId, live);
    const evicted: string[] = [];
    for (const [id, session] of this.#live) {
      if (this.#live.size <= this.policy.maxSessions) break;
      // A busy session is skipped: its turn is running and it was just used.
      if (session.busy === 0) {
        this.#live.delete(id);
        evicted.push(id);
      }
    }
    this.#counts.evicted += evicted.length;
    return evicted;
  }

  /** A turn in `channelId` is done; idle time counts from now, not from the question. */
  done(channelId: string, now: number): void {
    const live = this.#live.get(channelId);
    if (!live) return;
    if (live.busy > 0) live.busy--;
    live.lastActive = now;
  }

  /** Forgets an idle live session, as the LRU cap would; false when it is not live or is busy. */
  evict(channelId: string): boolean {
    const live = this.#live.get(channelId);
    if (!live || live.busy > 0) return false;
    this.#live.delete(channelId);
    this.#counts.evicted++;
    return true;
  }

  /** The idle sessions unused for `idleMs` at `now`, forgotten here: the caller reaps them. */
  sweep(now: number): string[] {
    const reaped: string[] = [];
    for (const [id, session] of this.#live) {
      if (session.busy === 0 && now - session.lastActive >= this.policy.idleMs) {
        this.#live.delete(id);
        reaped.push(id);
      }
    }
    this.#counts.reaped += reaped.length;
    return reaped;
  }

  /** A session actor crashed; it restarts from its stored window on its next turn. */
  actorCrashed(): void {
    this.#counts.crashed++;
  }

  /**
   * A host died at `now`: its sessions (`onHost` says which) are forgotten. True to restart it,
   * false when restarts exceed the policy's intensity: give up.
   */
  hostDied(now: number, onHost: (channelId: string) => boolean): boolean {
    this.#counts.restarted++;
    for (const id of this.#live.keys()) {
      if (onHost(id)) this.#live.delete(id);
    }
    return this.#intensity.record(now);
  }
}
