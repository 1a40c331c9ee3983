/**
 * The decode worker's entry: converts GIFs to PNG ({@link gifToPng}) off the main thread, one
 * message at a time, and posts each result back with its PNG's buffer transferred (no copy).
 *
 * Its work per image is bounded inside {@link gifToPng} (pixels checked before decoding, LZW
 * loops that always end): a worker stuck in a CPU loop could not be terminated.
 *
 * @module
 */
import { gifToPng } from "./gif_frame.ts";
import type { GifJob, GifJobResult } from "./gif_decoder.ts";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<GifJob>) => void) | null;
  postMessage(message: GifJobResult, transfer?: Transferable[]): void;
};

scope.onmessage = (event) => {
  const { id, gif } = event.data;
  const result = gifToPng(gif);
  const transfer = result.ok ? [result.png.buffer as ArrayBuffer] : [];
  scope.postMessage({ id, result }, transfer);
};
