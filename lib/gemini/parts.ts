/**
 * The sources of an answer grounded in Google Search: read from its `groundingMetadata`, and
 * shown under it as masked links. Pure.
 *
 * @module
 */
import type { Grounding } from "./port.ts";

/** Re-exported: the type this module's API is built on. */
export type { Grounding };

/** The most sources shown under an answer. */
export const MAX_SOURCES = 3;

/**
 * The web sources and search queries of a candidate's `groundingMetadata`, or undefined when
 * it names neither. Sources keep Gemini's order, one per URL, only http(s) ones.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const metadata = {
 *   groundingChunks: [{ web: { uri: "https://a.example/1", title: "a.example" } }],
 *   webSearchQueries: ["largest city"],
 * };
 * deepStrictEqual(groundingFrom(metadata), {
 *   sources: [{ title: "a.example", uri: "https://a.example/1" }],
 *   queries: ["largest city"],
 * });
 * ```
 */
export function groundingFrom(metadata: unknown): Grounding | undefined {
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const { groundingChunks, webSearchQueries } = metadata as {
    groundingChunks?: unknown;
    webSearchQueries?: unknown;
  };
  const sources: Grounding["sources"] = [];
  for (const chunk of Array.isArray(groundingChunks) ? groundingChunks : []) {
    const web = (chunk as { web?: { uri?: unknown; title?: unknown } })?.web;
    const uri = web?.uri;
    const isWebUrl = typeof uri === "string" && /^https?:\/\//.test(uri) && URL.canParse(uri);
    if (!isWebUrl || sources.some((s) => s.uri === uri)) continue;
    const title = typeof web?.title === "string" && web.title.trim() ? web.title.trim() : uri;
    sources.push({ title, uri });
  }
  const queries = (Array.isArray(webSearchQueries) ? webSearchQueries : [])
    .filter((q): q is string => typeof q === "string");
  if (sources.length === 0 && queries.length === 0) return undefined;
  return { sources, queries };
}

/**
 * The sources as shown under an answer: up to {@link MAX_SOURCES} masked links, `[title](<url>)`
 * (the angle brackets keep Discord from embedding the page), on one line; empty with none. A
 * title is a web page's, so anything in it that markdown reads is made plain.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const sources = [{ title: "a [b]", uri: "https://a.example/x" }];
 * strictEqual(sourcesLine(sources, "출처"), "-# 출처: [a (b)](<https://a.example/x>)");
 * ```
 */
export function sourcesLine(sources: Grounding["sources"], label: string): string {
  const links = sources.slice(0, MAX_SOURCES).map((s) =>
    `[${linkText(s.title)}](<${linkTarget(s.uri)}>)`
  );
  return links.length === 0 ? "" : `-# ${label}: ${links.join(" · ")}`;
}

/**
 * A title as a link's text: brackets made round and markdown escaped, so no title (one ending in
 * a backslash, or with a stray backtick) can break its link or swallow the next one.
 */
function linkText(title: string): string {
  return title.replace(/\[/g, "(").replace(/\]/g, ")").replace(/[\n\r]/g, " ")
    .replace(/[\\`*_~|]/g, (c) => `\\${c}`);
}

/**
 * A URL as a link's target inside `<…>`: what would end the target early (`>`, a space, a lone
 * `)`, a backslash) percent-encoded, which leaves the address the same page.
 */
function linkTarget(uri: string): string {
  return uri.replace(
    /[<>()\\\s]/g,
    (c) => c === "(" ? "%28" : c === ")" ? "%29" : encodeURIComponent(c),
  );
}
