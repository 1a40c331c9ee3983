/**
 * Discord's global REST budget, as a number: the one source of it.
 *
 * @module
 */

/**
 * REST requests a second the bot sends by default. Discord allows about 50 per bot token,
 * typing and every edit included, counted as they arrive. With the burst, the pacer lets at most
 * 44 leave in any second. The margin was measured as requests arrive at the fake Discord, where an
 * event loop's and a network's jitter bunch them up: at 45 a second and a burst of 2 (at most 47
 * leaving) the busiest second held 47 in `bench/burst.ts` on a quiet machine, and 52 in the
 * 200-message burst test while the whole suite and four other jobs loaded the machine.
 */
export const DISCORD_REQUESTS_PER_SECOND = 42;

/** Requests that may go at once after a quiet spell: with the rate, at most 44 in any second. */
export const DISCORD_REQUEST_BURST = 2;
