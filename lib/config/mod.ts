/**
 * Configuration: one typed object, built once from the environment.
 *
 * Parses and checks every variable (bad values exit with code 2 naming the variable and what it
 * expects) and assembles the defaults each domain owns; no domain imports it back. `lib/start/` builds
 * the bot's parts from it.
 *
 * @module
 */
export { botIdFromToken, ConfigError, secretsOf } from "./config.ts";
export type { Config } from "./config.ts";
export { configFromProcess } from "./env.ts";
