import assert from "node:assert/strict";
import { appendPart, type ModelPart } from "./client.ts";
import { groundingFrom, MAX_SOURCES, sourcesLine } from "./parts.ts";

/** The events of Gemini 3's recorded grounded stream (pydantic-ai's test suite). */
async function recordedEvents(): Promise<Record<string, unknown>[]> {
  const file = new URL(
    "../../tests/fixtures/gemini-recordings/gemini-3/pydantic-ai/google-search-3-flash-preview-1.txt",
    import.meta.url,
  );
  return (await Deno.readTextFile(file)).split(/\r?\n/)
    .filter((line) => line.startsWith("data:"))
    .map((line) => JSON.parse(line.slice(5)));
}

type Candidate = { content?: { parts?: Record<string, unknown>[] }; groundingMetadata?: unknown };
const candidateOf = (event: Record<string, unknown>) =>
  (event.candidates as Candidate[] | undefined)?.[0];

Deno.test("a grounded stream's parts are kept: the search call and response whole, the text joined, the last signature", async () => {
  const events = await recordedEvents();
  const received = events.flatMap((e) => candidateOf(e)?.content?.parts ?? []);
  const parts: ModelPart[] = [];
  for (const part of received) appendPart(parts, part);
  assert.equal(parts.length, 4);
  assert.deepEqual(parts[0], received[0]);
  assert.ok(parts[0].toolCall && parts[0].thoughtSignature);
  assert.deepEqual(parts[1], received[1]);
  assert.ok(parts[1].toolResponse && parts[1].thoughtSignature);
  assert.deepEqual(Object.keys(parts[2]), ["text"]);
  assert.match(parts[2].text!, /^The largest city in Mexico is \*\*Mexico City\*\*/);
  assert.deepEqual(parts[3], received.at(-1));
  assert.equal(parts[3].text, "");
});

Deno.test("the recorded grounding gives five sources in order and the two searches", async () => {
  const events = await recordedEvents();
  const grounding = groundingFrom(candidateOf(events.at(-1)!)?.groundingMetadata)!;
  assert.deepEqual(grounding.sources.map((s) => s.title), [
    "worldstats.io",
    "wikipedia.org",
    "worldpopulationreview.com",
    "voronoiapp.com",
    "worldometers.info",
  ]);
  assert.equal(grounding.queries.length, 2);
  assert.equal(groundingFrom(undefined), undefined);
  assert.equal(
    groundingFrom({ groundingChunks: [{ web: { uri: "javascript:alert(1)" } }] }),
    undefined,
  );
});

Deno.test("sources show as at most three masked links that Discord does not embed", () => {
  const sources = Array.from({ length: 5 }, (_, i) => ({
    title: `site${i}.example`,
    uri: `https://site${i}.example/a b>`,
  }));
  const line = sourcesLine(sources, "출처");
  assert.equal(line.match(/\]\(</g)?.length, MAX_SOURCES);
  assert.equal(
    line,
    "-# 출처: [site0.example](<https://site0.example/a%20b%3E>) · " +
      "[site1.example](<https://site1.example/a%20b%3E>) · " +
      "[site2.example](<https://site2.example/a%20b%3E>)",
  );
  assert.equal(sourcesLine([], "출처"), "");
});

Deno.test("a source's title can't break its link or the next: backslashes and markdown are escaped", () => {
  const line = sourcesLine([
    { title: "C:\\", uri: "https://a.example/" },
    { title: "a `b", uri: "https://b.example/" },
    { title: "x` *y* _z_ ~~w~~ ||v||", uri: "https://c.example/" },
  ], "출처");
  assert.equal(
    line,
    "-# 출처: [C:\\\\](<https://a.example/>) · [a \\`b](<https://b.example/>) · " +
      "[x\\` \\*y\\* \\_z\\_ \\~\\~w\\~\\~ \\|\\|v\\|\\|](<https://c.example/>)",
  );
});

Deno.test("a source's URL can't end its link early: parentheses and backslashes are percent-encoded", () => {
  const line = sourcesLine([{ title: "a", uri: "https://a.example/x)y(z\\w" }], "출처");
  assert.equal(line, "-# 출처: [a](<https://a.example/x%29y%28z%5Cw>)");
});
