/**
 * Logging through LogTape: JSON lines when stdout is not a terminal (for log collectors),
 * readable colour text when it is. Every line passes through a redactor, so a token or key
 * that ends up in an error message is never written out. Warnings and errors are also kept, redacted,
 * in a small ring ({@link recentProblems}) that the status page shows.
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  compareLogLevel,
  configure,
  getAnsiColorFormatter,
  getConsoleSink,
  getJsonLinesFormatter,
  getLogger,
  type Logger as LogTapeLogger,
  type LogLevel,
  type LogRecord,
  reset,
  withContext,
  withFilter,
} from "@logtape/logtape";

/** LogTape's level names, lowest first: "trace", "debug", "info", "warning", "error", "fatal". */
export type Level = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/** LogTape's logger: the type of {@link log} and of its children. */
export type Logger = LogTapeLogger;

/** The bot's root logger; modules take children of it (`log.getChild("broker")`). */
export const log: Logger = getLogger(["soyebot"]);

/** The level {@link setupLogging} set; until it runs, LogTape has no sinks and writes nothing. */
let lowestLevel: LogLevel | undefined;

/**
 * True when a line at `level` would be written. LogTape builds a whole record (context, template,
 * properties) before its level check drops it, so a caller that formats its own text, or logs on
 * every request, asks first.
 *
 * @example
 * ```ts ignore
 * if (isLogged("debug")) logger.debug(Deno.inspect(payload));
 * ```
 */
export function isLogged(level: Level): boolean {
  return lowestLevel !== undefined && compareLogLevel(level, lowestLevel) >= 0;
}

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
    // Interaction tokens are not configured secrets but ride in webhook and callback URLs
    // (which discordeno logs on errors); they are live credentials for 15 minutes.
    return out.replace(INTERACTION_TOKEN, "$1[REDACTED]");
  };
}

/** The token segment of an interaction callback or webhook URL. */
const INTERACTION_TOKEN = /(\/(?:webhooks\/\d+|interactions\/\d+)\/)[^/\s)"'?]+/g;

/** One warning or error, as the status page shows it: rendered, redacted, properties inlined. */
export interface ProblemRecord {
  /** Epoch ms. */
  at: number;
  /** LogTape's level name: "warning", "error" or "fatal". */
  level: string;
  /** The logger's category without the root, such as "broker". */
  category: string;
  /** The rendered message, with its properties inlined and secrets redacted. */
  message: string;
}

/**
 * The last few warning-and-worse log records, newest last, already redacted.
 *
 * @example
 * ```ts
 * const ring = new ProblemRing(2);
 * ring.push({ at: 0, level: "error", category: "bot", message: "x" });
 * ring.list(); // [{ at: 0, ... }]
 * ```
 */
export class ProblemRing {
  /** The most records kept; past it, the oldest are dropped. */
  readonly capacity: number;
  #records: ProblemRecord[] = [];

  /** Makes an empty ring; throws a RangeError unless `capacity` is a positive integer. */
  constructor(capacity = 20) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create ProblemRing as 'capacity' must be a positive integer: current value is ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /** Adds a record, dropping the oldest when the ring is full. */
  push(record: ProblemRecord): void {
    this.#records.push(record);
    if (this.#records.length > this.capacity) this.#records.shift();
  }

  /** The records kept, oldest first. */
  list(): ProblemRecord[] {
    return [...this.#records];
  }
}

/** Recent warnings and errors of this process, filled once {@link setupLogging} has run. */
export const recentProblems: ProblemRing = new ProblemRing(20);

/**
 * Renders a log record as one line for people: the message with its values, and, when the
 * template named none of them, the properties as compact JSON.
 *
 * @example
 * ```ts ignore
 * renderMessage(record); // "Gemini retry {\"keyId\":\"key1\",\"why\":\"429\"}"
 * ```
 */
function renderMessage(record: LogRecord): string {
  const text = record.message.map((part, i) =>
    i % 2 === 0 ? String(part) : typeof part === "string" ? part : Deno.inspect(part)
  ).join("");
  const usedPlaceholders = record.message.length > 1;
  const properties = Object.entries(record.properties);
  if (usedPlaceholders || properties.length === 0) return text;
  let json: string;
  try {
    json = JSON.stringify(record.properties);
  } catch {
    json = Deno.inspect(record.properties);
  }
  return `${text} ${json.length > 400 ? `${json.slice(0, 400)}…` : json}`;
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
  const recordProblem = (record: LogRecord) =>
    recentProblems.push({
      at: record.timestamp,
      level: record.level,
      category: record.category.slice(1).join(".") || record.category.join("."),
      message: redact(renderMessage(record)),
    });
  const base = json
    ? getJsonLinesFormatter()
    : getAnsiColorFormatter({ timestamp: "time", category: "." });
  await reset();
  lowestLevel = options.level;
  await configure({
    sinks: {
      console: getConsoleSink({ formatter: (record: LogRecord) => redact(base(record)) }),
      problems: withFilter(recordProblem, "warning"),
    },
    loggers: [
      { category: ["soyebot"], lowestLevel: options.level, sinks: ["console", "problems"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
    contextLocalStorage: new AsyncLocalStorage(),
  });
}

/**
 * Logs a promise rejection no one listened to, redacted, instead of letting it end the process:
 * a library promise that rejects unheard (discordeno's unqueued REST path did) would take every
 * conversation in flight with it.
 */
export function logUnhandledRejections(redact: (text: string) => string): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("Unhandled rejection: {error}", { error: redact(String(event.reason)) });
  });
}
