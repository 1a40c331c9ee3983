import assert from "node:assert/strict";
import { GifDecoder } from "./gif_decoder.ts";
import { GIF_MAX_PIXELS, gifToPng } from "./gif_frame.ts";

/** A GIF of `width` × `height` whose frame covers the canvas and draws nothing (clear, end). */
function blankGif(width: number, height: number): Uint8Array {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  return new Uint8Array([
    ...new TextEncoder().encode("GIF89a"),
    ...u16(width),
    ...u16(height),
    0,
    0,
    0,
    0x2c,
    0,
    0,
    0,
    0,
    ...u16(width),
    ...u16(height),
    0,
    2,
    1,
    0b101100,
    0,
    0x3b,
  ]);
}

Deno.test("GifDecoder converts in its worker: the GIF leaves this thread, the PNG comes back", async () => {
  const decoder = new GifDecoder();
  try {
    const gif = blankGif(64, 32);
    const expected = gifToPng(gif.slice());
    const converting = decoder.toPng(gif);
    assert.equal(gif.byteLength, 0, "the bytes were transferred to the worker, not decoded here");
    assert.deepEqual(await converting, expected);
  } finally {
    decoder.close();
  }
});

Deno.test("GifDecoder refuses a bomb and a non-GIF, and converts one at the pixel cap", async () => {
  const decoder = new GifDecoder();
  try {
    const results = await Promise.all([
      decoder.toPng(blankGif(65535, 33000)),
      decoder.toPng(new TextEncoder().encode("<html>")),
      decoder.toPng(blankGif(2048, GIF_MAX_PIXELS / 2048)),
    ]);
    assert.deepEqual(results.map((r) => r.ok || r.reason), ["too_large", "unreadable", true]);
  } finally {
    decoder.close();
  }
});

Deno.test("GifDecoder refuses a job that runs past its deadline", async () => {
  // A deadline of 0 passes before the worker has even started.
  const decoder = new GifDecoder({ timeoutMs: 0 });
  try {
    assert.deepEqual(await decoder.toPng(blankGif(2048, 2048)), {
      ok: false,
      reason: "unreadable",
    });
  } finally {
    decoder.close();
  }
});
