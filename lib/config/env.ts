/**
 * Reading the configuration from the process: the `.env` file, the bot's own variables from the
 * environment, and a check that every path and host it names is one the `bot` permission set
 * allows.
 *
 * @module
 */
import { join } from "node:path";
import { type Config, CONFIG_VARIABLES, ConfigError, loadConfig, mergeEnvFile } from "./config.ts";
import { checkWritable, DATABASE_FILE } from "../store/mod.ts";

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

/**
 * The configuration from `.env` and the environment; throws {@link ConfigError} naming the
 * variable that is wrong.
 *
 * @example
 * ```ts ignore
 * const config = await configFromProcess();
 * ```
 */
export async function configFromProcess(): Promise<Config> {
  const config = loadConfig(mergeEnvFile(await readEnvFile(), readEnvironment()));
  await checkPermissions(config);
  checkDataDir(config.dataDir);
  return config;
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
  if (config.redisUrl) {
    const { hostname, port } = new URL(config.redisUrl);
    const host = `${hostname}:${port || "6379"}`;
    needs.push(["REDIS_URL", { name: "net", host }, "a host"]);
  }
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
