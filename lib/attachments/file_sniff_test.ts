import assert from "node:assert/strict";
import { bytesMatchType } from "./file_sniff.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("bytesMatchType accepts each type's real signature", () => {
  const cases: [string, Uint8Array][] = [
    ["image/png", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)],
    ["image/jpeg", bytes(0xff, 0xd8, 0xff, 0xdb)],
    ["image/webp", encode("RIFF\0\0\0\0WEBPVP8 ")],
    ["image/gif", encode("GIF89a\x01\0")],
    ["image/heic", encode("\0\0\0\x18ftypheic")],
    ["application/pdf", encode("%PDF-1.7\n")],
    ["audio/wav", encode("RIFF\0\0\0\0WAVEfmt ")],
    ["audio/mp3", encode("ID3\x04")],
    ["audio/mp3", bytes(0xff, 0xfb, 0x90, 0x64)],
    ["audio/aiff", encode("FORM\0\0\0\0AIFF")],
    ["audio/aac", bytes(0xff, 0xf1, 0x50, 0x80)],
    ["audio/ogg", encode("OggS\0")],
    ["audio/flac", encode("fLaC\0")],
  ];
  for (const [type, sample] of cases) assert.ok(bytesMatchType(type, sample), type);
});

Deno.test("bytesMatchType refuses an HTML page, or another format, under a media type", () => {
  const html = encode("<!DOCTYPE html><html><body>Access denied</body></html>");
  for (const type of ["image/png", "image/jpeg", "image/webp", "application/pdf", "audio/mp3"]) {
    assert.equal(bytesMatchType(type, html), false, type);
  }
  assert.equal(bytesMatchType("image/png", bytes(0xff, 0xd8, 0xff, 0xe0)), false, "a JPEG");
  assert.equal(bytesMatchType("image/jpeg", new Uint8Array(0)), false, "nothing at all");
});

Deno.test("bytesMatchType leaves a type it has no signature for to other checks", () => {
  assert.ok(bytesMatchType("text/plain", encode("hello")));
});
