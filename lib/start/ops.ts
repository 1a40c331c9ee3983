/**
 * The operations endpoints as the bot serves them (readiness, metrics, the status page), wired to
 * what they read; opt-in: no `HTTP_PORT`, no server.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import {
  type BotMetrics,
  type OpsServer,
  renderStatusPage,
  serveOps,
  sqliteCheck,
} from "../ops/mod.ts";
import { type Logger, recentProblems } from "../log.ts";
import type { RedisConnection } from "../redis_client.ts";

/** What the endpoints read from the running bot. */
export interface OpsSources {
  /** Whether the gateway is connected. */
  gatewayConnected(): boolean;
  /** True once shutdown has begun: the bot is no longer ready. */
  stopping(): boolean;
  /** Whether the sessions can write their store. */
  storeWritable(): boolean;
  /**
   * Whether Discord's budget is leased from Redis as designed (undefined: nothing is shared);
   * false while Redis is away or slow and this process keeps to its local share.
   */
  sharedBudget?(): boolean | undefined;
  /** The figures behind `/metrics` and the status page. */
  metrics: BotMetrics;
  /** Where a failing endpoint and the address are logged. */
  logger: Logger;
}

/** Where the session store lives, for the readiness check: Redis, or the SQLite file. */
export type StoreLocation = { redis: RedisConnection } | { databasePath: string };

/** Serves the endpoints when `HTTP_PORT` is set, logging where; undefined when it is not. */
export function startOps(
  config: Pick<Config, "httpHost" | "httpPort">,
  store: StoreLocation,
  sources: OpsSources,
): OpsServer | undefined {
  if (config.httpPort === undefined) return undefined;
  const storeOpen = "redis" in store
    ? () => store.redis.status === "ready"
    : sqliteCheck(store.databasePath);
  const { metrics, logger } = sources;
  const ops = serveOps(
    { hostname: config.httpHost, port: config.httpPort },
    {
      readiness: () => {
        const checks: Record<string, boolean> = {
          gateway: sources.gatewayConnected(),
          store: !sources.stopping() && storeOpen() && sources.storeWritable(),
        };
        const shared = sources.sharedBudget?.();
        if (shared !== undefined) checks.discord_budget_shared = shared;
        return checks;
      },
      metrics: async () => ({ text: await metrics.render(), contentType: metrics.contentType }),
      statusPage: () => renderStatusPage(metrics.snapshot(), recentProblems.list()),
      onError: (error) => logger.error("Ops endpoint failed: {error}", { error: String(error) }),
    },
  );
  const { hostname, port } = ops.addr;
  logger.info(`Operations endpoints on http://${hostname}:${port}/`, { hostname, port });
  return ops;
}
