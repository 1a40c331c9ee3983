/**
 * Discord's global REST budget, as a number: the one source of it.
 *
 * @module
 */

/**
 * REST requests a second the bot sends by default. Discord allows about 50 per bot token,
 * typing and every edit included, counted as they arrive. With the burst, the pacer lets at most
 * 47 leave in any second. Measured as they arrive at the fake Discord (`bench/burst.ts`, 200
 * answers at once), the busiest second held 47; with a burst of 3 (at most 48 leaving) it held
 * 49, as an event loop's and a network's jitter bunches requests up: a margin of 3 under 50.
 */
export const DISCORD_REQUESTS_PER_SECOND = 45;

/** Requests that may go at once after a quiet spell: with the rate, at most 47 in any second. */
export const DISCORD_REQUEST_BURST = 2;
