import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "./store.ts";

Deno.test("SqliteStore returns an empty window for an unknown channel", async () => {
  const store = SqliteStore.open(":memory:");
  assert.deepEqual(await store.load("1"), []);
  await store.close();
});

Deno.test("SqliteStore saves, replaces and deletes a channel's window", async () => {
  const store = SqliteStore.open(":memory:");
  await store.save("1", [{ user: "a", model: "b", at: 1 }]);
  await store.save("1", [{ user: "c", model: "d", at: 2 }]);
  assert.deepEqual(await store.load("1"), [{ user: "c", model: "d", at: 2 }]);
  await store.delete("1");
  assert.deepEqual(await store.load("1"), []);
  await store.close();
});

Deno.test("SqliteStore migrates a new file once, in WAL mode, and reopens it with data intact", async () => {
  const dir = await Deno.makeTempDir({ dir: "data" }).catch(async () => {
    await Deno.mkdir("data", { recursive: true });
    return await Deno.makeTempDir({ dir: "data" });
  });
  try {
    const path = `${dir}/s.db`;
    const first = SqliteStore.open(path);
    assert.equal(first.schemaVersion, 1);
    await first.save("9", [{ user: "u", model: "m", at: 3 }]);
    await first.close();
    const again = SqliteStore.open(path);
    assert.equal(again.schemaVersion, 1);
    assert.deepEqual(await again.load("9"), [{ user: "u", model: "m", at: 3 }]);
    await again.close();
    const raw = new DatabaseSync(path);
    const mode = raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    raw.close();
    assert.equal(mode.journal_mode, "wal");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore lets two connections share one file, as worker hosts do", async () => {
  await Deno.mkdir("data", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "data" });
  try {
    const a = SqliteStore.open(`${dir}/s.db`);
    const b = SqliteStore.open(`${dir}/s.db`);
    await a.save("1", [{ user: "x", model: "y", at: 0 }]);
    assert.deepEqual(await b.load("1"), [{ user: "x", model: "y", at: 0 }]);
    await a.close();
    await b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
