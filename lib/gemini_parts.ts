/**
 * A model turn's parts as Gemini streamed them, made fit to keep and send back: adjacent plain
 * text chunks joined into one part, every part that carries anything else (a thought signature,
 * a Google Search `toolCall` or `toolResponse`) kept exactly as received, in order. And the
 * sources of a grounded answer, read from its `groundingMetadata`. Pure.
 *
 * @module
 */
import type { Grounding, ModelPart } from "./gemini_port.ts";

/** Re-exported: the types this module's API is built on. */
export type { Grounding, ModelPart };

/**
 * The parts to keep, or undefined when they are plain text only (the text alone says it all).
 * Thought-summary parts (`thought: true`) are not part of the answer and are left out.
 *
 * @example
 * ```ts
 * import { deepStrictEqual, strictEqual } from "node:assert/strict";
 * strictEqual(modelPartsFrom([{ text: "안" }, { text: "녕" }]), undefined);
 * deepStrictEqual(modelPartsFrom([{ text: "안" }, { text: "녕" }, { text: "", thoughtSignature: "s" }]), [
 *   { text: "안녕" },
 *   { text: "", thoughtSignature: "s" },
 * ]);
 * ```
 */
export function modelPartsFrom(received: readonly ModelPart[]): ModelPart[] | undefined {
  const parts: ModelPart[] = [];
  let carriesMore = false;
  for (const part of received) {
    if (part.thought === true) continue;
    const isPlainText = typeof part.text === "string" && Object.keys(part).length === 1;
    const last = parts.at(-1);
    const lastIsPlainText = last !== undefined && typeof last.text === "string" &&
      Object.keys(last).length === 1;
    if (isPlainText && lastIsPlainText) {
      parts[parts.length - 1] = { text: last.text + part.text! };
      continue;
    }
    if (!isPlainText) carriesMore = true;
    parts.push(isPlainText ? { text: part.text } : structuredClone(part));
  }
  return carriesMore ? parts : undefined;
}

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
 * (the angle brackets keep Discord from embedding the page), on one line; empty with none.
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
    `[${s.title.replace(/\[/g, "(").replace(/\]/g, ")").replace(/[\n\r]/g, " ")}](<${
      s.uri.replace(/[<>\s]/g, encodeURIComponent)
    }>)`
  );
  return links.length === 0 ? "" : `-# ${label}: ${links.join(" · ")}`;
}
