/**
 * Discord's global REST budget, as a number: the one source of it.
 *
 * @module
 */

/**
 * REST requests a second the bot sends by default. Discord allows about 50 per bot token,
 * typing and every edit included, counted as they arrive. With the burst, the pacer lets at most
 * 48 leave in any second; measured as they arrive at the fake Discord (`bench/burst.ts`, 200
 * answers in one burst), the busiest second held 47, so the jitter of an event loop and a
 * network still fits under 50.
 */
export const DISCORD_REQUESTS_PER_SECOND = 45;

/** Requests that may go at once after a quiet spell: with the rate, at most 48 in any second. */
export const DISCORD_REQUEST_BURST = 3;
