/**
 * discordeno's own logger, routed into LogTape so its lines share the bot's format and pass
 * through the redactor in log.ts (which also cuts interaction tokens).
 *
 * @module
 */
import { isLogged, type Level, log } from "../log.ts";

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
 * discordeno logs several debug lines per request (one with the whole payload): each is formatted
 * only when its level is written.
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
  const at = (level: Level, write: (text: string) => void) => (...args: unknown[]) => {
    if (isLogged(level)) write(line(args));
  };
  const debug = at("debug", (text) => logger.debug(text));
  const info = at("info", (text) => logger.info(text));
  const warn = at("warning", (text) => logger.warn(text));
  const error = at("error", (text) => logger.error(text));
  return {
    log: (level: number, ...args: unknown[]) => {
      if (level <= 0) debug(...args);
      else if (level === 1) info(...args);
      else if (level === 2) warn(...args);
      else error(...args);
    },
    setDepth: () => {},
    setLevel: () => {},
    debug,
    info,
    warn,
    error,
    fatal: at("fatal", (text) => logger.fatal(text)),
  };
}
