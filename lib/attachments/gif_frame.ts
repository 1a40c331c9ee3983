/**
 * A GIF's first frame as a PNG. Gemini 2.x refuses `image/gif` (only PNG, JPEG, WebP, HEIC and
 * HEIF are listed), so an animated or still GIF is shown to the model as its first frame.
 *
 * Pure: bytes in, bytes out. Decodes the GIF's LZW image data and writes an RGBA PNG through
 * `node:zlib`'s deflate (PNG's IDAT is a zlib stream).
 *
 * @module
 */
import { deflateSync } from "node:zlib";

/**
 * Pixels the canvas, and each frame, may have (2048 × 2048): a larger one (a decompression bomb,
 * or a poster) is refused before anything is allocated. Gemini scales images down to well under
 * this anyway, and it bounds one conversion to about 40 MB and a fraction of a second of work.
 */
export const GIF_MAX_PIXELS = 4_194_304;

/** A GIF's first frame as PNG, or why not: too many pixels, or not a GIF this can read. */
export type GifConversion =
  | { ok: true; png: Uint8Array }
  | { ok: false; reason: "too_large" | "unreadable" };

/**
 * The first frame of `gif` as PNG bytes, composed on the GIF's canvas (transparent where the
 * frame does not cover it). The canvas and the frame are checked against {@link GIF_MAX_PIXELS}
 * before any pixel is decoded, so the work and memory are bounded by the cap, not by the header.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(gifToPng(new TextEncoder().encode("not a gif")), { ok: false, reason: "unreadable" });
 * ```
 */
export function gifToPng(gif: Uint8Array): GifConversion {
  try {
    const frame = firstFrame(gif);
    if (frame === "too_large") return { ok: false, reason: "too_large" };
    if (!frame) return { ok: false, reason: "unreadable" };
    return { ok: true, png: encodePng(frame.width, frame.height, frame.rgba) };
  } catch {
    return { ok: false, reason: "unreadable" }; // truncated or malformed data
  }
}

/**
 * The first frame of `gif` as PNG bytes; undefined when it is refused ({@link gifToPng} says why).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(gifFirstFrameAsPng(new TextEncoder().encode("not a gif")), undefined);
 * ```
 */
export function gifFirstFrameAsPng(gif: Uint8Array): Uint8Array | undefined {
  const converted = gifToPng(gif);
  return converted.ok ? converted.png : undefined;
}

/** Whether a `width` × `height` image fits {@link GIF_MAX_PIXELS} (and has any pixel). */
function fitsCap(width: number, height: number): boolean {
  return width > 0 && height > 0 && width * height <= GIF_MAX_PIXELS;
}

interface Frame {
  width: number;
  height: number;
  rgba: Uint8Array;
}

function firstFrame(gif: Uint8Array): Frame | "too_large" | undefined {
  const header = new TextDecoder().decode(gif.subarray(0, 6));
  if (header !== "GIF87a" && header !== "GIF89a") return undefined;
  const u16 = (at: number) => gif[at] | (gif[at + 1] << 8);
  const width = u16(6);
  const height = u16(8);
  if (width === 0 || height === 0) return undefined;
  if (!fitsCap(width, height)) return "too_large";
  let pos = 13;
  let palette: Uint8Array = new Uint8Array(0);
  if (gif[10] & 0x80) {
    const size = 3 * (1 << ((gif[10] & 7) + 1));
    palette = gif.subarray(pos, pos + size);
    pos += size;
  }
  let transparent = -1;
  while (pos < gif.length) {
    const block = gif[pos++];
    if (block === 0x21) {
      const label = gif[pos++];
      // Graphic Control Extension: its flags say whether one palette index is transparent.
      if (label === 0xf9 && gif[pos] === 4 && gif[pos + 1] & 1) transparent = gif[pos + 4];
      pos = skipSubBlocks(gif, pos);
    } else if (block === 0x2c) {
      const [left, top, w, h, flags] = [
        u16(pos),
        u16(pos + 2),
        u16(pos + 4),
        u16(pos + 6),
        gif[pos + 8],
      ];
      pos += 9;
      // The frame's own size, not only the canvas's: a 1×1 canvas may declare a 65535×33000
      // frame, and decoding that is gigabytes of work for one pixel shown.
      if (!fitsCap(w, h)) return w === 0 || h === 0 ? undefined : "too_large";
      if (flags & 0x80) {
        const size = 3 * (1 << ((flags & 7) + 1));
        palette = gif.subarray(pos, pos + size);
        pos += size;
      }
      const minCodeSize = gif[pos++];
      if (minCodeSize < 2 || minCodeSize > 11) return undefined;
      const end = skipSubBlocks(gif, pos);
      const indices = lzwDecode(joinSubBlocks(gif, pos, end), minCodeSize, w * h);
      const rows = flags & 0x40 ? interlacedRows(h) : [...Array(h).keys()];
      const rgba = new Uint8Array(width * height * 4);
      for (let row = 0; row < h; row++) {
        const y = top + rows[row];
        for (let col = 0; col < w; col++) {
          const x = left + col;
          const index = indices[row * w + col];
          if (x >= width || y >= height || index === transparent || 3 * index >= palette.length) {
            continue;
          }
          const at = (y * width + x) * 4;
          rgba.set(palette.subarray(3 * index, 3 * index + 3), at);
          rgba[at + 3] = 255;
        }
      }
      return { width, height, rgba };
    } else {
      return undefined; // the trailer (0x3b) before any image, or garbage
    }
  }
  return undefined;
}

/** The position after a run of sub-blocks (length byte, data) ended by a zero length. */
function skipSubBlocks(bytes: Uint8Array, pos: number): number {
  while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos] + 1;
  return pos + 1;
}

function joinSubBlocks(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let length = 0;
  for (let pos = start; pos < end - 1 && bytes[pos] !== 0; pos += bytes[pos] + 1) {
    out.set(bytes.subarray(pos + 1, pos + 1 + bytes[pos]), length);
    length += bytes[pos];
  }
  return out.subarray(0, length);
}

/** The image rows in the order an interlaced GIF stores them: every 8th from 0, from 4, … */
function interlacedRows(height: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let y = start; y < height; y += step) rows.push(y);
  }
  return rows;
}

/** GIF's variable-width LZW: codes are read least significant bit first, up to 12 bits. */
function lzwDecode(data: Uint8Array, minCodeSize: number, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const prefix = new Uint16Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const stack = new Uint8Array(4097);
  for (let code = 0; code < clear; code++) suffix[code] = first[code] = code;
  let size = minCodeSize + 1;
  let next = end + 1;
  let previous = -1;
  let bits = 0;
  let buffer = 0;
  let pos = 0;
  let written = 0;
  while (written < pixels) {
    while (bits < size) {
      if (pos >= data.length) return out;
      buffer |= data[pos++] << bits;
      bits += 8;
    }
    const code = buffer & ((1 << size) - 1);
    buffer >>>= size;
    bits -= size;
    if (code === clear) {
      size = minCodeSize + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code === end) break;
    // A code past the table's next entry is corrupt data; stopping here also keeps every
    // prefix chain strictly decreasing, so the walk below always ends.
    if (code > next) break;
    if (previous === -1) {
      if (code > end) break; // only a literal may follow a clear code
      out[written++] = suffix[code];
      previous = code;
      continue;
    }
    let depth = 0;
    let walk = code;
    if (code >= next) {
      // The code being defined right now: the previous string plus its own first byte.
      stack[depth++] = first[previous];
      walk = previous;
    }
    while (walk > end) {
      stack[depth++] = suffix[walk];
      walk = prefix[walk];
    }
    stack[depth++] = walk;
    while (depth > 0 && written < pixels) out[written++] = stack[--depth];
    if (next < 4096) {
      prefix[next] = previous;
      suffix[next] = walk;
      first[next] = first[previous];
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    previous = code;
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  const rowBytes = width * 4;
  const raw = new Uint8Array((rowBytes + 1) * height);
  for (let y = 0; y < height; y++) {
    // Filter type 0 (None) before each row.
    raw.set(rgba.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA, deflate, no filter set, no interlace
  const chunks = [
    chunk("IHDR", header),
    chunk("IDAT", new Uint8Array(deflateSync(raw, { level: 1 }))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  const out = new Uint8Array(8 + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set(signature);
  let at = 8;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
