/**
 * Whether a file's leading bytes are what its media type says: Gemini answers 400 for an HTML
 * page named `photo.png`, and that is the file's fault, told to the user before any call.
 *
 * Pure: bytes in, a yes or no out.
 *
 * @module
 */

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  text.split("").every((char, i) => bytes[at + i] === char.charCodeAt(0));

/** Signatures by media type (as `classifyAttachment` names them); each a test of the bytes. */
const SIGNATURES: Record<string, (bytes: Uint8Array) => boolean> = {
  "image/png": (b) => b[0] === 0x89 && ascii(b, 1, "PNG\r\n\x1a\n"),
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/webp": (b) => ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP"),
  "image/gif": (b) => ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a"),
  // ISO base media files: a `ftyp` box first; its brand says HEIC or HEIF, but any is accepted.
  "image/heic": (b) => ascii(b, 4, "ftyp"),
  "image/heif": (b) => ascii(b, 4, "ftyp"),
  // Readers accept `%PDF` within the first kilobyte; some writers put a little before it.
  "application/pdf": (b) => indexOf(b.subarray(0, 1024), "%PDF-") >= 0,
  "audio/wav": (b) => ascii(b, 0, "RIFF") && ascii(b, 8, "WAVE"),
  // An ID3 tag, or an MPEG audio frame's 11-bit sync.
  "audio/mp3": (b) => ascii(b, 0, "ID3") || (b[0] === 0xff && (b[1] & 0xe0) === 0xe0),
  "audio/aiff": (b) => ascii(b, 0, "FORM") && (ascii(b, 8, "AIFF") || ascii(b, 8, "AIFC")),
  // ADTS frames (12-bit sync) or an ADIF header.
  "audio/aac": (b) => (b[0] === 0xff && (b[1] & 0xf6) === 0xf0) || ascii(b, 0, "ADIF"),
  "audio/ogg": (b) => ascii(b, 0, "OggS"),
  "audio/flac": (b) => ascii(b, 0, "fLaC") || ascii(b, 0, "ID3"),
};

/**
 * True when `bytes` start as a `mimeType` file does; true for a type this does not know (text is
 * checked as UTF-8 elsewhere).
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * strictEqual(bytesMatchType("image/png", new TextEncoder().encode("<!doctype html>")), false);
 * strictEqual(bytesMatchType("image/jpeg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), true);
 * ```
 */
export function bytesMatchType(mimeType: string, bytes: Uint8Array): boolean {
  const matches = SIGNATURES[mimeType];
  return matches === undefined || matches(bytes);
}

function indexOf(bytes: Uint8Array, text: string): number {
  for (let at = 0; at + text.length <= bytes.length; at++) {
    if (ascii(bytes, at, text)) return at;
  }
  return -1;
}
