/**
 * discordeno's own logger, routed into LogTape so its lines share the bot's format and pass
 * through the redactor in log.ts (which also cuts interaction tokens).
 *
 * @module
 */
import { log } from "./log.ts";

/** The logger shape discordeno's managers take. */
export interface DiscordenoLogger {
  /** Logs at discordeno's numeric level: 0 debug, 1 info, 2 warn, higher error. */
  log(level: number, ...args: unknown[]): void;
  /** Ignored: LogTape's configuration decides. */
  setDepth(): void;
  /** Ignored: LogTape's configuration decides. */
  setLevel(): void;
  /** A DEBUG line. */
  debug(...args: unknown[]): void;
  /** An INFO line. */
  info(...args: unknown[]): void;
  /** A WARN line. */
  warn(...args: unknown[]): void;
  /** An ERROR line. */
  error(...args: unknown[]): void;
  /** A FATAL line. */
  fatal(...args: unknown[]): void;
}

/**
 * A discordeno logger named `name` (`rest`, `gateway`) that writes to `soyebot.discordeno.<name>`.
 *
 * @example
 * ```ts ignore
 * const rest = createRestManager({ token, applicationId, logger: discordenoLogger("rest") });
 * ```
 */
export function discordenoLogger(name: string): DiscordenoLogger {
  const logger = log.getChild(["discordeno", name]);
  const line = (args: unknown[]) =>
    args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" ");
  return {
    log: (level: number, ...args: unknown[]) => {
      const text = line(args);
      if (level <= 0) logger.debug(text);
      else if (level === 1) logger.info(text);
      else if (level === 2) logger.warn(text);
      else logger.error(text);
    },
    setDepth: () => {},
    setLevel: () => {},
    debug: (...args: unknown[]) => logger.debug(line(args)),
    info: (...args: unknown[]) => logger.info(line(args)),
    warn: (...args: unknown[]) => logger.warn(line(args)),
    error: (...args: unknown[]) => logger.error(line(args)),
    fatal: (...args: unknown[]) => logger.fatal(line(args)),
  };
}
