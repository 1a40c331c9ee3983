/**
 * Discord ids and interaction tokens as they may go into a URL.
 *
 * Ids and tokens arrive in gateway payloads, and a path built from an unchecked one can name any
 * route (`channel_id: "../../users/@me"` made a reply go to `POST /users/@me/messages`). Only a
 * snowflake or a URL-safe token is put in a path; anything else is refused at the edge.
 *
 * @module
 */

/** A Discord snowflake: 17 to 20 decimal digits (ids since 2015 have at least 17). */
const SNOWFLAKE = /^\d{17,20}$/;

/**
 * Interaction tokens are base64url-like; these characters need no escaping in a path segment and
 * cannot form `..` or `/`. A dot alone is allowed, so a dot-only token is refused separately.
 */
const URL_SAFE_TOKEN = /^[A-Za-z0-9_\-.]{1,1000}$/;

/**
 * True for a Discord id of 17 to 20 digits.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(isSnowflake("1100000000000000001"), true);
 * strictEqual(isSnowflake("../../users/@me"), false);
 * ```
 */
export function isSnowflake(value: unknown): value is string {
  return typeof value === "string" && SNOWFLAKE.test(value);
}

/**
 * True for an interaction token that can be one URL path segment as it is.
 *
 * @example Usage
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(isUrlSafeToken("aW50ZXJhY3Rpb246MTIz_-x"), true);
 * strictEqual(isUrlSafeToken("../webhooks/1"), false);
 * ```
 */
export function isUrlSafeToken(value: unknown): value is string {
  return typeof value === "string" && URL_SAFE_TOKEN.test(value) && !/^\.+$/.test(value);
}

/**
 * Returns `value` when it is a snowflake; else throws a TypeError naming `what`, without the value
 * (it came from outside and may be anything).
 *
 * @example Usage
 * ```ts
 * import { throws } from "node:assert/strict";
 * throws(() => requireSnowflake("12", "channel id"), TypeError);
 * ```
 */
export function requireSnowflake(value: string, what: string): string {
  if (!isSnowflake(value)) {
    throw new TypeError(`Refused to build a Discord URL: the ${what} is not a 17 to 20 digit id`);
  }
  return value;
}

/**
 * Returns `token` when it is URL-safe; else throws a TypeError that never shows the token.
 *
 * @example Usage
 * ```ts
 * import { throws } from "node:assert/strict";
 * throws(() => requireUrlSafeToken("a/b"), TypeError);
 * ```
 */
export function requireUrlSafeToken(token: string): string {
  if (!isUrlSafeToken(token)) {
    throw new TypeError("Refused to build a Discord URL: the interaction token is not URL-safe");
  }
  return token;
}

/**
 * Reads the bot's id from its token, as Discord encodes it in the first segment (base64url).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(botIdFromToken(`${btoa("1100000000000000001")}.abc.def`), "1100000000000000001");
 * ```
 */
export function botIdFromToken(token: string): string {
  return atob(token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
}
