/**
 * The input-token estimate a call reserves before it is made; `usageMetadata` corrects it after.
 *
 * @module
 */
import type { Content } from "../gemini/mod.ts";

/** Re-exported: the types this module's API is built on, so that its documentation is whole. */
export type { Content } from "../gemini/port.ts";

/** The estimate for one inline or uploaded file: what Gemini bills an image (one tile). */
const MEDIA_PART_TOKENS = 258;

/**
 * Estimates input tokens before the call, for the reservation: about 4 characters a token for
 * ASCII and 1.5 for other scripts (Korean runs near that), plus 4 for each turn.
 *
 * @example
 * ```ts
 * import { estimateTokens } from "./token_estimate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(estimateTokens([{ role: "user", parts: [{ text: "hello world!" }] }]), 7);
 * // Inline bytes are not counted as base64 text.
 * const image = { inlineData: { mimeType: "image/png", data: "A".repeat(40_000) } };
 * assert.equal(estimateTokens([{ role: "user", parts: [image] }]), 262);
 * ```
 */
export function estimateTokens(contents: readonly Content[], systemInstruction = ""): number {
  let ascii = 0;
  let other = 0;
  const count = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) < 128) ascii++;
      else other++;
    }
  };
  count(systemInstruction);
  let media = 0;
  for (const content of contents) {
    for (const part of content.parts) {
      // A file's bytes are not text: Gemini bills an image 258 tokens (a PDF that per page).
      if (typeof part.text === "string") count(part.text);
      else media++;
    }
  }
  return Math.ceil(ascii / 4 + other / 1.5) + 4 * contents.length + MEDIA_PART_TOKENS * media;
}
