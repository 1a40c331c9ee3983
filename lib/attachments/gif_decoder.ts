/**
 * GIF conversion off the gateway's event loop: one long-lived Web Worker (a worker costs about
 * 11 MB and 25 ms to start, so one for all images rather than one each), started on the first
 * GIF, taking jobs in order. A job that does not finish in time is refused and the worker
 * replaced; each job's work is bounded inside the worker, so a replaced one ends on its own.
 *
 * The other formats the bot accepts (PNG, JPEG, WebP, HEIC/HEIF, PDF, audio) are never decoded
 * here: their bytes go to Gemini as they are, after a check of their leading bytes.
 *
 * @module
 */
import type { GifConversion } from "./gif_frame.ts";

/** Re-exported: the result type of {@link GifDecoder.toPng}. */
export type { GifConversion } from "./gif_frame.ts";

/** A job sent to the worker. */
export interface GifJob {
  /** Matches the answer to its job. */
  id: number;
  /** The GIF's bytes (transferred: the sender no longer holds them). */
  gif: Uint8Array;
}

/** The worker's answer to a {@link GifJob}. */
export interface GifJobResult {
  /** The job's id. */
  id: number;
  /** The PNG, or why not. */
  result: GifConversion;
}

/** How long one conversion may take before it is refused and the worker replaced. */
export const GIF_DECODE_TIMEOUT_MS = 15_000;

/** Converts GIFs to PNG in one background worker. */
export class GifDecoder {
  #worker: Worker | undefined;
  #nextId = 0;
  #pending = new Map<number, {
    resolve(result: GifConversion): void;
    timer: ReturnType<typeof setTimeout>;
  }>();
  #timeoutMs: number;

  /** A decoder whose jobs time out after `timeoutMs`. */
  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? GIF_DECODE_TIMEOUT_MS;
  }

  /**
   * `gif`'s first frame as PNG, converted in the worker; never rejects. `gif` is transferred to
   * the worker: the caller must not read it afterwards.
   *
   * @example
   * ```ts
   * import { deepStrictEqual } from "node:assert/strict";
   * const decoder = new GifDecoder();
   * deepStrictEqual(await decoder.toPng(new TextEncoder().encode("not a gif")), {
   *   ok: false,
   *   reason: "unreadable",
   * });
   * decoder.close();
   * ```
   */
  toPng(gif: Uint8Array): Promise<GifConversion> {
    const worker = this.#worker ?? this.#start();
    const id = ++this.#nextId;
    const { promise, resolve } = Promise.withResolvers<GifConversion>();
    const timer = setTimeout(() => {
      // Too slow (the machine is overloaded): refuse this one and start afresh for the next.
      this.#replace();
    }, this.#timeoutMs);
    this.#pending.set(id, { resolve, timer });
    const job: GifJob = { id, gif };
    const whole = gif.byteOffset === 0 && gif.byteLength === gif.buffer.byteLength;
    worker.postMessage(job, whole ? [gif.buffer as ArrayBuffer] : []);
    return promise;
  }

  /** Ends the worker; pending jobs are refused. */
  close(): void {
    this.#replace();
  }

  #start(): Worker {
    const worker = new Worker(new URL("./gif_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (event: MessageEvent<GifJobResult>) => {
      const job = this.#pending.get(event.data.id);
      if (!job) return;
      clearTimeout(job.timer);
      this.#pending.delete(event.data.id);
      job.resolve(event.data.result);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#replace();
    };
    this.#worker = worker;
    return worker;
  }

  /** Refuses every pending job and drops the worker; the next job starts a new one. */
  #replace(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    for (const job of this.#pending.values()) {
      clearTimeout(job.timer);
      job.resolve({ ok: false, reason: "unreadable" });
    }
    this.#pending.clear();
  }
}
