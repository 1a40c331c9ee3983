/**
 * How the status page writes its figures: durations, counts, costs and times of day, and the
 * HTML escaping every value goes through.
 *
 * @example
 * ```ts
 * import { duration, escape, ms } from "./status_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ms(1234), "1.23 s");
 * assert.equal(duration(90_000), "1 min");
 * assert.equal(escape("<b>"), "&#60;b&#62;");
 * ```
 *
 * @module
 */

/** A duration in milliseconds, as "850 ms", "1.23 s" or "12.5 s"; "–" for no value. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

/** A whole number with thousands separators. */
export function integer(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A cost in US dollars: four decimals under a dollar, two above. */
export function usd(value: number): string {
  return `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;
}

/** The UTC time of day of `at`, as "HH:MM". */
export function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 16);
}

/** A time left or passed, coarsely: "42 s", "5 min", "3 h 20 min", "4 d". */
export function duration(msLeft: number): string {
  const seconds = Math.max(0, Math.round(msLeft / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d`;
}

/** Escapes text for HTML content and attribute values. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
