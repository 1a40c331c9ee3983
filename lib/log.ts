/**
 * Logging through LogTape: JSON lines when stdout is not a terminal (for log collectors),
 * readable colour text when it is. Every line passes through a redactor, so a token or key
 * that ends up in an error message is never written out.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  configure,
  getAnsiColorFormatter,
  getConsoleSink,
  getJsonLinesFormatter,
  getLogger,
  type Logger,
  type LogRecord,
  reset,
  withContext,
} from "@logtape/logtape";

/** The bot's root logger; modules take children of it (`log.getChild("broker")`). */
export const log: Logger = getLogger(["soyebot"]);

/** Runs `fn` with properties (channel, request id) attached to every log line it writes. */
export function withLogContext<T>(context: Record<string, unknown>, fn: () => T): T {
  return withContext(context, fn);
}

/**
 * Returns a function that replaces each secret in a string with `[REDACTED]`.
 *
 * @example
 * ```ts
 * redactor(["s3cret"])("key=s3cret"); // "key=[REDACTED]"
 * ```
 */
export function redactor(secrets: readonly string[]): (text: string) => string {
  // Short values would redact ordinary words; real tokens and keys are long.
  const patterns = secrets.filter((s) => s.length >= 8);
  return (text) => {
    let out = text;
    for (const secret of patterns) out = out.replaceAll(secret, "[REDACTED]");
    return out;
  };
}

/** Sets up logging for the process. */
export async function setupLogging(options: {
  level: "debug" | "info" | "warning" | "error";
  secrets: readonly string[];
  /** "json" lines for collectors, "text" for people; by default text only on a terminal. */
  format?: "json" | "text" | "auto";
}): Promise<void> {
  const redact = redactor(options.secrets);
  const format = options.format ?? "auto";
  const json = format === "json" || (format === "auto" && !Deno.stdout.isTerminal());
  const base = json
    ? getJsonLinesFormatter()
    : getAnsiColorFormatter({ timestamp: "time", category: "." });
  await reset();
  await configure({
    sinks: {
      console: getConsoleSink({ formatter: (record: LogRecord) => redact(base(record)) }),
    },
    loggers: [
      { category: ["soyebot"], lowestLevel: options.level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
    contextLocalStorage: new AsyncLocalStorage(),
  });
}
