/**
 * SoyeBot's entry point: `deno task start`.
 *
 * Reads the configuration (stopping with exit code 2 and one line naming the variable when it is
 * wrong), starts the bot, and shuts it down gracefully on SIGINT or SIGTERM within 10 s.
 *
 * @module
 */
import { join } from "node:path";
import { startBot } from "./lib/bot.ts";
import {
  type Config,
  CONFIG_VARIABLES,
  ConfigError,
  loadConfig,
  mergeEnvFile,
} from "./lib/config.ts";
import { log, redactor, setupLogging } from "./lib/log.ts";
import { loadPersona } from "./lib/prompts.ts";
import { checkWritable, DATABASE_FILE } from "./lib/store.ts";
import { setTraceRedactor } from "./lib/tracing.ts";

/** Exit codes: 2 for configuration, 1 for a failed start or shutdown, 70 when the bot cannot go on. */
const EXIT_CONFIG = 2;
const EXIT_FAILED = 1;
const EXIT_GAVE_UP = 70;

/** How long a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 10_000;

async function readEnvFile(): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(".env");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** The set variables among those the bot knows. */
function readEnvironment(): Record<string, string> {
  // Only the variables the bot knows, so the start task can grant exactly these.
  const env: Record<string, string> = {};
  for (const name of CONFIG_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

async function configure(): Promise<{ config: Config; persona: string } | undefined> {
  try {
    const config = loadConfig(mergeEnvFile(await readEnvFile(), readEnvironment()));
    await checkPermissions(config);
    checkDataDir(config.dataDir);
    const persona = await loadPersona(config.personaFile);
    return { config, persona };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TypeError || error instanceof RangeError) {
      console.error(`soyebot: configuration error: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

/**
 * A setting that points outside what the task may touch would otherwise fail later, as an
 * unexplained permission error or as retries that look like an outage: name it now.
 */
async function checkPermissions(config: Config): Promise<void> {
  const needs: [string, Deno.PermissionDescriptor, string][] = [
    ["DATA_DIR", { name: "write", path: config.dataDir }, "a directory the bot may write"],
    ["DISCORD_API_URL", { name: "net", host: new URL(config.discordApiUrl).host }, "a host"],
    ["GEMINI_API_URL", { name: "net", host: new URL(config.geminiApiUrl).host }, "a host"],
  ];
  if (config.personaFile) {
    needs.push(["PERSONA_FILE", { name: "read", path: config.personaFile }, "a file"]);
  }
  for (const [variable, descriptor, what] of needs) {
    const { state } = await Deno.permissions.query(descriptor);
    if (state !== "granted") {
      throw new ConfigError(
        variable,
        `must name ${what} that the "bot" permission set in deno.json allows; add it there`,
      );
    }
  }
}

/**
 * A DATA_DIR the database can't be created or written in would let the bot answer and save
 * nothing: write to it once now, and name it with SQLite's reason if that fails.
 */
function checkDataDir(dataDir: string): void {
  const path = join(dataDir, DATABASE_FILE);
  try {
    Deno.mkdirSync(dataDir, { recursive: true });
    checkWritable(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      "DATA_DIR",
      `must be a directory where the bot can create and write ${path}, with free space; ` +
        `it could not (${reason})`,
    );
  }
}

async function main(): Promise<number> {
  const configured = await configure();
  if (!configured) return EXIT_CONFIG;
  const { config, persona } = configured;
  const secrets = [config.discordToken, ...config.geminiApiKeys];
  await setupLogging({ level: config.logLevel, format: config.logFormat, secrets });
  const redact = redactor(secrets);
  setTraceRedactor(redact);
  // A library promise that rejects with no one listening (discordeno's unqueued REST path did)
  // would end the process and every conversation in flight with it: log it and stay up.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("Unhandled rejection: {error}", { error: redact(String(event.reason)) });
  });

  let bot;
  try {
    bot = await startBot(config, {
      persona,
      onFatal: (reason) => {
        log.fatal("Giving up: {reason}", { reason });
        Deno.exit(EXIT_GAVE_UP);
      },
    });
  } catch (error) {
    log.fatal("Start failed: {error}", { error: redact(String(error)) });
    const status = (error as { cause?: { status?: number } }).cause?.status;
    if (status === 401) console.error("soyebot: Discord refused DISCORD_TOKEN (401 Unauthorized)");
    return EXIT_FAILED;
  }
  log.info("SoyeBot is running", {
    model: config.geminiModel,
    keys: config.geminiApiKeys.length,
    hosts: config.sessionHosts,
  });

  const { promise: signalled, resolve } = Promise.withResolvers<string>();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, () => resolve(signal));
  const signal = await signalled;
  log.info("Shutting down on {signal}", { signal });
  const overdue = setTimeout(() => {
    log.error("Shutdown took longer than {ms} ms; exiting anyway", { ms: SHUTDOWN_LIMIT_MS });
    Deno.exit(EXIT_FAILED);
  }, SHUTDOWN_LIMIT_MS);
  await bot.stop();
  clearTimeout(overdue);
  log.info("Stopped cleanly");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
