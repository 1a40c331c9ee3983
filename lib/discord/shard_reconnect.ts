/**
 * Reconnecting discordeno's gateway shards the way Discord asks: with capped, jittered backoff
 * between attempts, RESUMING the session (session id, sequence, resume URL) for as long as
 * Discord keeps it, and counting every IDENTIFY against the session start limit.
 *
 * discordeno 21's own `handleClose` reconnects at once and alternates RESUME with IDENTIFY on
 * each failure, so a gateway that refuses connections for a few seconds saw ~700 attempts a
 * second, and the attempt that finally got through was as likely to start a new session (losing
 * what happened meanwhile) as to resume. This module wraps each shard's `handleClose` and the
 * manager's `identify`; the socket, heartbeat, RESUME and IDENTIFY payloads stay discordeno's.
 *
 * @module
 */
import { ShardSocketCloseCodes } from "discordeno";
import type { BackoffOptions } from "../backoff.ts";
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import { log as rootLog } from "../log.ts";
import { type ReconnectAction, reconnectAction, ReconnectBackoff } from "./reconnect_plan.ts";
import { SessionStartBudget, type SessionStartLimit } from "./session_start_budget.ts";

const log = rootLog.getChild("gateway");

/** The members of a discordeno shard (`ReconnectingShard`) this module uses. */
export interface ReconnectingShard {
  /** The shard's id. */
  readonly id: number;
  /** The session to RESUME; undefined before the first READY. */
  sessionId?: string;
  /** READY's `resume_gateway_url`; discordeno connects there when it is set. */
  resumeGatewayUrl: string;
  /** The current socket, if any. */
  socket?: WebSocket;
  /** discordeno's reaction to a closed socket, which this module wraps. */
  handleClose(close: CloseEvent): Promise<void>;
  /** Connects and sends RESUME for `sessionId`. */
  resume(): Promise<void>;
}

/** The members of discordeno's `GatewayManager` this module uses. */
export interface ReconnectingGateway {
  /** The shards by id, created by `identify` on first use. */
  readonly shards: Map<number, ReconnectingShard>;
  /** Starts a new session for a shard (creating the shard first); this module wraps it. */
  identify(shardId: number): Promise<void>;
}

/** Options for {@linkcode superviseReconnects}. */
export interface ShardReconnectOptions {
  /** The session start limit `GET /gateway/bot` reported before the shards were spawned. */
  sessionStartLimit: SessionStartLimit;
  /** Asks `GET /gateway/bot` again, once a wait for the limit's reset is over. */
  refreshLimit(): Promise<SessionStartLimit>;
  /** Overrides for the backoff (tests pin its randomness). @default {GATEWAY_BACKOFF} */
  backoff?: BackoffOptions;
  /** The time and timers to use. @default {systemClock} */
  clock?: Clock;
}

/** The handle {@linkcode superviseReconnects} returns. */
export interface ShardReconnects {
  /** A shard reached READY or RESUMED: its next outage starts from the base delay. */
  connected(shardId: number): void;
  /** Stops reconnecting: cancels pending attempts and aborts sockets still connecting. */
  stop(): void;
}

/**
 * Takes over reconnecting for every shard `gateway` creates. Call it before `spawnShards()`.
 *
 * @example
 * ```ts ignore
 * const reconnects = superviseReconnects(gateway, {
 *   sessionStartLimit: connection.sessionStartLimit,
 *   refreshLimit: async () => (await rest.getGatewayBot()).sessionStartLimit,
 * });
 * await gateway.spawnShards();
 * ```
 */
export function superviseReconnects(
  gateway: ReconnectingGateway,
  options: ShardReconnectOptions,
): ShardReconnects {
  const clock = options.clock ?? systemClock;
  const budget = new SessionStartBudget(options.sessionStartLimit, clock.now());
  const backoffs = new Map<number, ReconnectBackoff>();
  const timers = new Set<TimerId>();
  const watched = new WeakSet<ReconnectingShard>();
  let stopped = false;

  function later(ms: number, callback: () => void): void {
    const id = clock.setTimeout(() => {
      timers.delete(id);
      if (!stopped) callback();
    }, ms);
    timers.add(id);
  }

  /** Asks Discord for its count, which other processes on the same token spend too. */
  async function refresh(): Promise<void> {
    try {
      budget.update(await options.refreshLimit(), clock.now());
    } catch (error) {
      // Keep counting locally: once the reset has passed the budget assumes a full period.
      log.warn("Could not refresh the session start limit: {error}", { error: String(error) });
    }
  }

  /** Waits until a session start is free and takes it; false once stopped. */
  async function takeSessionStart(shardId: number, fresh: boolean): Promise<boolean> {
    if (!fresh) await refresh();
    while (!stopped) {
      const waitMs = budget.take(clock.now());
      if (waitMs === 0) return true;
      log.warn(
        "No gateway session starts left (session_start_limit.remaining is 0): shard {shardId} " +
          "waits {waitMs} ms for reset_after before it identifies",
        { shardId, waitMs },
      );
      await new Promise<void>((resolve) => later(waitMs, resolve));
      if (!stopped) await refresh();
    }
    return false;
  }

  function reconnect(shard: ReconnectingShard, action: ReconnectAction, code: number): void {
    let backoff = backoffs.get(shard.id);
    if (!backoff) backoffs.set(shard.id, backoff = new ReconnectBackoff(options.backoff));
    const resume = action === "resume" && shard.sessionId !== undefined;
    const delayMs = backoff.next();
    const plan = resume ? "resume its session" : "start a new session";
    log.warn(
      `Gateway shard {shardId} closed with {code}; will ${plan} in {delayMs} ms (attempt {attempt})`,
      { shardId: shard.id, code, delayMs, attempt: backoff.failures },
    );
    later(delayMs, () => {
      const attempt = resume ? shard.resume() : gateway.identify(shard.id);
      attempt.catch((error) =>
        log.error("Gateway shard {shardId} failed to reconnect: {error}", {
          shardId: shard.id,
          error: String(error),
        })
      );
    });
  }

  function watch(shard: ReconnectingShard | undefined): void {
    if (!shard || watched.has(shard)) return;
    watched.add(shard);
    const handleClose = shard.handleClose.bind(shard);
    shard.handleClose = async (close: CloseEvent) => {
      const action = reconnectAction(close.code);
      if (action === "discordeno" && !stopped) return await handleClose(close);
      // discordeno still tidies up after the socket (heartbeat, decompression, close waiters),
      // but on its own shutdown code it stops there, Disconnected, and leaves the rest to us.
      await handleClose(
        new CloseEvent("close", { code: ShardSocketCloseCodes.Shutdown, reason: close.reason }),
      );
      if (!stopped) reconnect(shard, action, close.code);
    };
  }

  // Every IDENTIFY goes through the manager's identify: the first (spawnShards), the ones after
  // an invalid session (the shard's requestIdentify), and ours after a session-ending close.
  const identifyShard = gateway.identify.bind(gateway);
  gateway.identify = async (shardId: number) => {
    const existing = gateway.shards.get(shardId);
    // spawnShards' first IDENTIFYs follow the GET /gateway/bot the limit came from.
    if (!(await takeSessionStart(shardId, existing === undefined))) return;
    if (existing) {
      // A new session: the old one is not to be resumed, and its resume URL is not for IDENTIFY.
      existing.sessionId = undefined;
      existing.resumeGatewayUrl = "";
    }
    // The manager creates the shard synchronously, before any socket of it can close.
    const identified = identifyShard(shardId);
    watch(gateway.shards.get(shardId));
    await identified;
  };

  return {
    connected(shardId) {
      backoffs.get(shardId)?.reset();
    },
    stop() {
      stopped = true;
      for (const id of timers) clock.clearTimeout(id);
      timers.clear();
      for (const shard of gateway.shards.values()) {
        // A socket still connecting would open after shutdown and start heartbeating.
        if (shard.socket?.readyState === WebSocket.CONNECTING) shard.socket.close();
      }
    },
  };
}
