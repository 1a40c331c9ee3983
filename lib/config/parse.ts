/**
 * Reading one environment variable: each helper returns the typed value or its default, or
 * throws a {@link ConfigError} that names the variable and says what it expects, never the value
 * it refused (any variable may hold a pasted secret).
 *
 * @example
 * ```ts
 * import { ConfigError, int } from "./parse.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(int({ N: "7" }, "N", 1, 1, 10), 7);
 * assert.throws(() => int({ N: "70" }, "N", 1, 1, 10), ConfigError);
 * ```
 *
 * @module
 */
import { type KeyGroups, parseKeyGroups } from "./key_groups.ts";
import { botIdFromToken, isSnowflake } from "../snowflake.ts";

/** Environment variables by name, as `Deno.env.toObject()` returns them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value that is missing or malformed; `variable` names it. */
export class ConfigError extends Error {
  /** The environment variable at fault. */
  readonly variable: string;
  /** Makes the error; `expected` is appended to the variable's name to form the message. */
  constructor(variable: string, expected: string) {
    super(`${variable} ${expected}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** Whether `token` has a bot token's shape: three parts, the first the base64 of a bot id. */
export function isDiscordTokenShaped(token: string): boolean {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return false;
  try {
    return /^\d{15,21}$/.test(botIdFromToken(token));
  } catch {
    return false;
  }
}

/** The Gemini keys from `GEMINI_API_KEYS` (comma-separated) or else `GEMINI_API_KEY`, without duplicates. */
export function apiKeys(env: Env): KeyGroups {
  const many = env.GEMINI_API_KEYS?.trim();
  const one = env.GEMINI_API_KEY?.trim();
  if (!many && !one) {
    throw new ConfigError(
      "GEMINI_API_KEY",
      "is missing: set it to a Gemini API key from Google AI Studio (or GEMINI_API_KEYS to several, comma-separated)",
    );
  }
  const name = many ? "GEMINI_API_KEYS" : "GEMINI_API_KEY";
  const parsed = parseKeyGroups(many ?? one!);
  if (typeof parsed === "string") {
    throw new ConfigError(
      name,
      "must be API keys separated by commas, keys of one project optionally grouped as " +
        `projA:key1|key2 (${parsed})`,
    );
  }
  return parsed;
}

/** The trimmed value of `name`; throws naming `what` to set it to when it is missing. */
export function required(env: Env, name: string, what: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, `is missing: set it to ${what}`);
  return value;
}

/** The trimmed value of `name` matching `pattern`, or `fallback` when unset. */
export function text(
  env: Env,
  name: string,
  fallback: string,
  pattern: RegExp,
  what: string,
): string {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (!pattern.test(value)) {
    throw new ConfigError(name, `must be ${what}`);
  }
  return value;
}

/** An http(s) URL without its trailing slashes, or `fallback` when unset. */
export function url(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new ConfigError(name, "must be an http(s) URL");
  }
  return value.replace(/\/+$/, "");
}

/** A whole number from `min` to `max`, or `fallback` when unset. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A finite number of 0 or more, or `fallback` when unset. */
export function num(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) {
    throw new ConfigError(name, "must be a number of 0 or more");
  }
  return n;
}

/** A Discord id, or undefined when unset. */
export function optionalSnowflake(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (!isSnowflake(value)) throw new ConfigError(name, "must be a Discord id of 17 to 20 digits");
  return value;
}

/** One of `allowed` (case-insensitive), or `fallback` when unset. */
export function oneOf<T extends string>(
  env: Env,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}
