/**
 * Fetching an attachment's bytes: only from Discord's CDN or the configured Discord API's own
 * host (a REST proxy, or the fakes in tests), never following a redirect elsewhere, within a
 * deadline that covers the whole body, and never past a byte cap whatever the server claims.
 *
 * @module
 */

/** Discord's CDN origins, where attachment URLs point. */
export const DISCORD_CDN_ORIGINS = [
  "https://cdn.discordapp.com",
  "https://media.discordapp.net",
] as const;

/** How a fetch ended: the bytes, or why not. */
export type FetchedAttachment =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: "host" | "timeout" | "too_large" | "failed"; status?: number };

/** Options for {@linkcode fetchAttachment}. */
export interface FetchAttachmentOptions {
  /** Origins (`https://host[:port]`) the URL must have. */
  allowedOrigins: readonly string[];
  /** The whole fetch, headers and body, must finish within this. */
  timeoutMs: number;
  /** Bytes past this end the fetch as `too_large`. */
  maxBytes: number;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * The origins attachments may come from: Discord's CDN and the origin of `discordApiUrl`.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(attachmentOrigins("http://127.0.0.1:8080/api"), [
 *   "https://cdn.discordapp.com",
 *   "https://media.discordapp.net",
 *   "http://127.0.0.1:8080",
 * ]);
 * ```
 */
export function attachmentOrigins(discordApiUrl: string): string[] {
  const api = new URL(discordApiUrl).origin;
  return [...new Set<string>([...DISCORD_CDN_ORIGINS, api])];
}

/**
 * Fetches `url`'s bytes, or says why not; never rejects.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * const options = { allowedOrigins: ["https://cdn.discordapp.com"], timeoutMs: 1000, maxBytes: 10 };
 * deepStrictEqual(await fetchAttachment("https://example.com/a.png", options), {
 *   ok: false,
 *   reason: "host",
 * });
 * ```
 */
export async function fetchAttachment(
  url: string,
  options: FetchAttachmentOptions,
): Promise<FetchedAttachment> {
  const origin = URL.canParse(url) ? new URL(url).origin : undefined;
  if (origin === undefined || !options.allowedOrigins.includes(origin)) {
    return { ok: false, reason: "host" };
  }
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new Error(`attachment fetch took over ${options.timeoutMs} ms`));
  }, options.timeoutMs);
  try {
    // A redirect could lead off the allowed hosts: refuse it rather than follow it.
    const response = await (options.fetch ?? fetch)(url, {
      signal: abort.signal,
      redirect: "error",
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: "failed", status: response.status };
    }
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > options.maxBytes) {
      await response.body?.cancel();
      return { ok: false, reason: "too_large" };
    }
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of response.body ?? new ReadableStream<Uint8Array>()) {
      length += chunk.length;
      // Leaving the loop cancels the body: no more of it is read.
      if (length > options.maxBytes) return { ok: false, reason: "too_large" };
      chunks.push(chunk);
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    return { ok: true, bytes };
  } catch {
    return { ok: false, reason: timedOut ? "timeout" : "failed" };
  } finally {
    clearTimeout(timer);
  }
}
