/**
 * Discord's global REST budget, as a number: the one source of it.
 *
 * @module
 */

/**
 * REST requests a second the bot sends by default. Discord allows about 50 per bot token,
 * typing and every edit included, counted as they arrive. With the burst, the pacer lets at most
 * 42 leave in any second. The margin was measured as requests arrive at the fake Discord, where an
 * event loop's and a network's jitter bunch them up by up to 5 (47 arrived in one second at a
 * limit of 47 on a quiet machine, 49 at a limit of 44 while other work loaded it, in the
 * 200-message burst test), and up to 8 when the test itself stalled the fake.
 */
export const DISCORD_REQUESTS_PER_SECOND = 40;

/** Requests that may go at once after a quiet spell: with the rate, at most 42 in any second. */
export const DISCORD_REQUEST_BURST = 2;
