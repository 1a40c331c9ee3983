import assert from "node:assert/strict";
import { escape } from "./status_format.ts";

Deno.test("escape covers the five HTML-special characters", () => {
  assert.equal(
    escape(`<a href="x">'&'</a>`),
    "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
  );
});
