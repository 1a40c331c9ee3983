import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { GIF_MAX_PIXELS, gifFirstFrameAsPng, gifToPng } from "./gif_frame.ts";

// CPython's tkinter test images (Lib/test/tkinterdata): one 16x16 icon as a 64-colour GIF with
// transparency, made by a real encoder, and as a full-colour PPM.
const PYTHON_GIF =
  "R0lGODlhEAAQAPU/AOu7GOu+IfPBGvrHGf3LG//MHOvCKv/PI//PJP/QJf/TLevFNOjHPf/TMP/UMP3VNvrTOf/XOfnVPv/YOuzORf/aQf/bRP/eS//fTv/iVf/jWP/nYvLhbvXjb/3pav/rbDJghzZmkDZnkTZpkzdoljdqljlsljpvmzpwnDtwnDxxnj1zoj50oj92pUB4pkJ7qkN8q0N9rUV/r0aAsUeBskiDtEiFtkqGukyJvEyKvEyKv0+NwVCPw1KRxv///wAAACH/C0ltYWdlTWFnaWNrB2dhbW1hPTAAIfkEBQAAPwAsAAAAABAAEAAABpvAn/C3u81iLRVpyBTmfLMXC1VqMm1RVqo0sv50thjLFDKVqszeDleTuVSn0fmXuUh+PB1N9oKP/iA/FxUPXzY0UipnIoEUhAo/hzAuXU0VEQoHP0cuIj8cHhsZGBUTCggEPzFSPx0fGxoYFhENCAUCQispP6+xpacFBVawGAwLBgEAAF6xsw0Jwl4/shEOCT6p0j8QzwUD2uBDQQA7";
const PYTHON_PPM =
  "UDYKMTYgMTYKMjU1CgAAAAAAAAAAAAAAAE6NwEqGukiDtER+rUB4pzxxnjdolgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEyKvP///0V/r0F5qD50ojpvmzZplAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEmFt0aAsUJ7qj51oztwnTdqljZplAAAAAAAAAAAAAAAAAAAAAAAAE6PxEyKv0iFtkN9rT10oTlsljZmkDhslzZplDZplAAAAAAAAAAAAAAAAAAAAFKRxk+NwUuIu0iDtER9rUB4pj1zoDltmTZplDZplDZplAAAAP/iVf3dSvnVPgAAAFCPw0yJvEiEtUV/r0F5qD10oTpvmzZplDZplDZplDJghwAAAP/eS//aQf3VNgAAAE2LvkmFt0aAsEJ7qj51oztwnDdqljZplDVokjJghwAAAOzORf/aQv/WN//TLQAAAEqHuUeBskN8qz92pTZpkxsxRQAAAAAAAAAAAAAAAOLDRf3ZQf/XOP/TLf/PIwAAAEaBskR9rUB4pjZnkQAAAPLhbv3pav/mYf/jV//fTf/bQv/XOP/TLv/PJP3LGwAAAEN9rkF5qD10oRwyS/Xjb//rbP/nYf/jV//fTf/bQ//XOf/TLv/PJP/MHPPBGgAAAEB1oz1zojpwnAAAAP/rbP/nYv/jWP/fTv/bQ//XOf/TL//PJP/MHP/MHMKaEgAAAAAAAAAAAAAAAAAAAP/nYv/jWP/fTujHPevFNOvCKuu+Ieu7GOu7GMabEgAAAAAAAAAAAAAAAAAAAAAAAP/jWP/fTv/bRP/XOv/TMP/QJf/MHAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP3eTv/bRP/YOv/UMP/QJv////3LGwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPHQP/rTOf3SL//QJv/MHPrHGcCXEgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** Width, height and RGBA pixels of a PNG this module wrote (one IDAT, filter 0 rows). */
function readPng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  const width = view.getUint32(16), height = view.getUint32(20);
  let pos = 8;
  let idat: Uint8Array = new Uint8Array(0);
  while (pos < png.length) {
    const length = view.getUint32(pos);
    const type = new TextDecoder().decode(png.subarray(pos + 4, pos + 8));
    if (type === "IDAT") idat = png.subarray(pos + 8, pos + 8 + length);
    pos += 12 + length;
  }
  const raw = new Uint8Array(inflateSync(idat));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * (width * 4 + 1)], 0, "filter type None");
    rgba.set(raw.subarray(y * (width * 4 + 1) + 1, (y + 1) * (width * 4 + 1)), y * width * 4);
  }
  return { width, height, rgba };
}

/** A GIF written with literal codes only (a clear code every 2), so rows are easy to lay out. */
function literalGif(width: number, height: number, indices: number[], interlaced: boolean) {
  const palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255]; // 4 colours
  const out = [...new TextEncoder().encode("GIF89a"), width, 0, height, 0, 0x81, 0, 0];
  out.push(...palette);
  out.push(0x2c, 0, 0, 0, 0, width, 0, height, 0, interlaced ? 0x40 : 0, 2);
  const codes = [4];
  indices.forEach((index, i) => {
    if (i > 0 && i % 2 === 0) codes.push(4);
    codes.push(index);
  });
  codes.push(5);
  // Code size 3 throughout: a clear every 2 literals keeps the table below 8 entries.
  const data: number[] = [];
  let buffer = 0, bits = 0;
  for (const code of codes) {
    buffer |= code << bits;
    bits += 3;
    while (bits >= 8) (data.push(buffer & 0xff), buffer >>= 8, bits -= 8);
  }
  if (bits > 0) data.push(buffer);
  for (let i = 0; i < data.length; i += 255) {
    const block = data.slice(i, i + 255);
    out.push(block.length, ...block);
  }
  out.push(0, 0x3b);
  return new Uint8Array(out);
}

Deno.test("gifFirstFrameAsPng decodes a real encoder's GIF to the colours of the same image", () => {
  const png = readPng(gifFirstFrameAsPng(bytes(PYTHON_GIF))!);
  const ppm = bytes(PYTHON_PPM);
  const header = new TextDecoder("latin1").decode(ppm.subarray(0, 15)).match(
    /^P6\s+16\s+16\s+255\s/,
  )!;
  const pixels = ppm.subarray(header[0].length);
  assert.equal(png.width, 16);
  assert.equal(png.height, 16);
  let opaque = 0;
  for (let i = 0; i < 256; i++) {
    if (png.rgba[i * 4 + 3] === 0) continue;
    opaque++;
    for (let c = 0; c < 3; c++) {
      // The GIF's 64-colour palette is the full-colour image quantised: close, not equal.
      assert.ok(Math.abs(png.rgba[i * 4 + c] - pixels[i * 3 + c]) <= 12, `pixel ${i} channel ${c}`);
    }
  }
  assert.ok(opaque > 100 && opaque < 256, `the icon's background is transparent: ${opaque}`);
});

Deno.test("gifFirstFrameAsPng puts an interlaced GIF's rows back in order", () => {
  // Row y has colour y % 3; interlaced storage order is rows 0, 8, 4, 2, 6, 1, 3, 5, 7, 9.
  const order = [0, 8, 4, 2, 6, 1, 3, 5, 7, 9];
  const gif = literalGif(2, 10, order.flatMap((y) => [y % 3, y % 3]), true);
  const png = readPng(gifFirstFrameAsPng(gif)!);
  const colours = [[0, 0, 0], [255, 0, 0], [0, 255, 0]];
  for (let y = 0; y < 10; y++) {
    assert.deepEqual([...png.rgba.subarray(y * 8, y * 8 + 3)], colours[y % 3], `row ${y}`);
  }
});

Deno.test("gifFirstFrameAsPng refuses what is not a GIF, is cut short, or is too big", () => {
  assert.equal(gifFirstFrameAsPng(new TextEncoder().encode("PNG? no")), undefined);
  assert.equal(gifFirstFrameAsPng(bytes(PYTHON_GIF).subarray(0, 40)), undefined);
  const huge = literalGif(1, 1, [1], false);
  huge.set([0xff, 0xff, 0xff, 0xff], 6); // a 65535 x 65535 canvas
  assert.equal(gifFirstFrameAsPng(huge), undefined);
});

/**
 * A GIF with a `canvas` and a first frame of `frame` pixels, whose LZW data is `codes` at 3 bits
 * each (minimum code size 2): by default only clear (4) and end (5), so nothing is drawn.
 */
function declaredGif(
  canvas: [number, number],
  frame: [number, number],
  codes = [4, 5],
): Uint8Array {
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const data: number[] = [];
  let buffer = 0, bits = 0;
  for (const code of codes) {
    buffer |= code << bits;
    bits += 3;
    while (bits >= 8) (data.push(buffer & 0xff), buffer >>= 8, bits -= 8);
  }
  if (bits > 0) data.push(buffer);
  const gif = [...new TextEncoder().encode("GIF89a"), ...u16(canvas[0]), ...u16(canvas[1])];
  gif.push(0, 0, 0); // no global palette
  gif.push(0x2c, 0, 0, 0, 0, ...u16(frame[0]), ...u16(frame[1]), 0);
  gif.push(2, data.length, ...data, 0, 0x3b);
  return new Uint8Array(gif);
}

Deno.test("gifToPng refuses a frame larger than the cap on a tiny canvas, before decoding it", () => {
  // The red team's bomb: a 1×1 canvas and a 65535×33000 first frame, in a few dozen bytes.
  const bomb = declaredGif([1, 1], [65535, 33000]);
  assert.ok(bomb.length < 40);
  assert.deepEqual(gifToPng(bomb), { ok: false, reason: "too_large" });
  assert.deepEqual(gifToPng(declaredGif([4096, 4096], [1, 1])), { ok: false, reason: "too_large" });
  const atCap = declaredGif([2048, GIF_MAX_PIXELS / 2048], [2048, GIF_MAX_PIXELS / 2048]);
  assert.equal(gifToPng(atCap).ok, true, "exactly the cap is converted");
});

Deno.test("gifToPng ends on corrupt LZW codes instead of walking a loop", () => {
  // After a clear, 6 is not yet in the table: taken as a string, it would make entry 6 its own
  // prefix, and the next 6 would walk that chain forever.
  const gif = declaredGif([4, 1], [4, 1], [4, 6, 1, 6, 5]);
  assert.equal(gifToPng(gif).ok, true, "decoded up to the corrupt code, the rest left empty");
});
