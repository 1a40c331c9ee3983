/**
 * Discord's global REST budget, as a number: the one source of it.
 *
 * @module
 */

/**
 * REST requests a second the bot sends by default. Discord allows about 50 per bot token,
 * typing and every edit included, counted as they arrive; the pacer keeps a wide margin under it,
 * since its burst and the jitter of an event loop and a network must fit in the same second.
 */
export const DISCORD_REQUESTS_PER_SECOND = 35;

/** Requests that may go at once after a quiet spell: with the rate, at most 38 in any second. */
export const DISCORD_REQUEST_BURST = 3;
