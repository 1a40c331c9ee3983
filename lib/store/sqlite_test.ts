import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { checkWritable, SCHEMA_VERSION, SqliteStore } from "./sqlite.ts";

/** Runs `fn` with the path of a fresh database file, removing its directory afterwards. */
async function withDatabaseFile(fn: (path: string) => Promise<void>): Promise<void> {
  await Deno.mkdir("data", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: "data" });
  try {
    await fn(`${dir}/s.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a schema-1 database (one JSON window per channel), as the first release stored it. */
function writeSchema1(path: string, windows: Record<string, string>): void {
  const v1 = new DatabaseSync(path);
  v1.exec(`CREATE TABLE sessions (channel_id TEXT PRIMARY KEY, window TEXT NOT NULL,
    updated_at INTEGER NOT NULL) STRICT; PRAGMA user_version = 1;`);
  const insert = v1.prepare("INSERT INTO sessions VALUES (?, ?, ?)");
  for (const [channelId, window] of Object.entries(windows)) insert.run(channelId, window, 0);
  v1.close();
}

Deno.test("SqliteStore returns an empty window for an unknown channel", async () => {
  const store = SqliteStore.open(":memory:");
  assert.deepEqual(await store.load("1"), []);
  await store.close();
});

Deno.test("SqliteStore appends exchanges in order and deletes a channel", async () => {
  const store = SqliteStore.open(":memory:");
  await store.append("1", { user: "a", model: "b", at: 1 }, 20);
  await store.append("1", { user: "c", model: "d", at: 2 }, 20);
  await store.append("2", { user: "x", model: "y", at: 3 }, 20);
  assert.deepEqual(await store.load("1"), [
    { user: "a", model: "b", at: 1 },
    { user: "c", model: "d", at: 2 },
  ]);
  await store.delete("1");
  assert.deepEqual(await store.load("1"), []);
  assert.equal((await store.load("2")).length, 1);
  await store.close();
});

Deno.test("SqliteStore never holds more than the window of a channel", async () => {
  const store = SqliteStore.open(":memory:");
  for (let i = 0; i < 25; i++) await store.append("1", { user: `u${i}`, model: "m", at: i }, 20);
  const window = await store.load("1");
  assert.equal(window.length, 20);
  assert.equal(window[0].user, "u5");
  assert.equal(window.at(-1)!.user, "u24");
  await store.close();
});

Deno.test("SqliteStore migrates a new file, in WAL mode, and reopens it with data intact", async () => {
  await withDatabaseFile(async (path) => {
    const first = SqliteStore.open(path);
    assert.equal(first.schemaVersion, SCHEMA_VERSION);
    await first.append("9", { user: "u", model: "m", at: 3 }, 20);
    await first.close();
    const again = SqliteStore.open(path);
    assert.equal(again.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(await again.load("9"), [{ user: "u", model: "m", at: 3 }]);
    await again.close();
    const raw = new DatabaseSync(path);
    const mode = raw.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    raw.close();
    assert.equal(mode.journal_mode, "wal");
  });
});

Deno.test("SqliteStore carries windows saved by schema 1 into the current schema", async () => {
  await withDatabaseFile(async (path) => {
    const window = [{ user: "안녕", model: "응", at: 10 }, {
      user: "뭐 해?",
      model: "방송",
      at: 20,
    }];
    writeSchema1(path, { "7": JSON.stringify(window) });
    const store = SqliteStore.open(path);
    assert.equal(store.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(await store.load("7"), window);
    await store.append("7", { user: "또", model: "왜", at: 30 }, 20);
    assert.deepEqual((await store.load("7")).map((e) => e.user), ["안녕", "뭐 해?", "또"]);
    await store.close();
  });
});

Deno.test("SqliteStore upgrades past a damaged schema-1 window, keeping the readable ones", async () => {
  await withDatabaseFile(async (path) => {
    writeSchema1(path, {
      good: JSON.stringify([{ user: "u", model: "m", at: 5.5 }]),
      broken: "{not json",
      odd: JSON.stringify([{ user: "u" }, 7, { user: "a", model: "b" }]),
    });
    const store = SqliteStore.open(path);
    assert.equal(store.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(await store.load("good"), [{ user: "u", model: "m", at: 5 }]);
    assert.deepEqual(await store.load("broken"), []);
    assert.deepEqual(await store.load("odd"), [{ user: "a", model: "b", at: 0 }]);
    await store.close();
  });
});

Deno.test("SqliteStore lets two connections share one file, as worker hosts do", async () => {
  await withDatabaseFile(async (path) => {
    const a = SqliteStore.open(path);
    const b = SqliteStore.open(path);
    await a.append("1", { user: "x", model: "y", at: 0 }, 20);
    assert.deepEqual(await b.load("1"), [{ user: "x", model: "y", at: 0 }]);
    await a.close();
    await b.close();
  });
});

Deno.test("SqliteStore has no memory for an unknown channel", async () => {
  const store = SqliteStore.open(":memory:");
  assert.equal(await store.loadMemory("1"), "");
  await store.close();
});

Deno.test("SqliteStore saves a fold: the memory replaces the old one and the folded exchanges go", async () => {
  const store = SqliteStore.open(":memory:");
  for (let i = 1; i <= 5; i++) await store.append("1", { user: `u${i}`, model: "m", at: i }, 5);
  await store.saveMemory("1", "- 첫 기억", 3);
  assert.equal(await store.loadMemory("1"), "- 첫 기억");
  assert.deepEqual((await store.load("1")).map((e) => e.user), ["u3", "u4", "u5"]);
  await store.saveMemory("1", "- 둘째 기억", 3);
  assert.equal(await store.loadMemory("1"), "- 둘째 기억");
  assert.equal(await store.loadMemory("2"), "");
  await store.close();
});

Deno.test("SqliteStore.delete forgets a channel's memory with its exchanges", async () => {
  const store = SqliteStore.open(":memory:");
  await store.append("1", { user: "u", model: "m", at: 1 }, 20);
  await store.saveMemory("1", "- 민수는 떡볶이를 좋아함", 20);
  await store.saveMemory("2", "- 다른 채널", 20);
  await store.delete("1");
  assert.equal(await store.loadMemory("1"), "");
  assert.deepEqual(await store.load("1"), []);
  assert.equal(await store.loadMemory("2"), "- 다른 채널");
  await store.close();
});

Deno.test("SqliteStore keeps the memory across a reopen and upgrades a schema-2 file to it", async () => {
  await withDatabaseFile(async (path) => {
    const v2 = new DatabaseSync(path);
    v2.exec(`CREATE TABLE exchanges (channel_id TEXT NOT NULL, seq INTEGER NOT NULL,
      user TEXT NOT NULL, model TEXT NOT NULL, at INTEGER NOT NULL, command_id TEXT,
      PRIMARY KEY (channel_id, seq)) STRICT, WITHOUT ROWID;
      INSERT INTO exchanges VALUES ('7', 1, '안녕', '응', 10, NULL);
      PRAGMA user_version = 2;`);
    v2.close();
    const first = SqliteStore.open(path);
    assert.equal(first.schemaVersion, SCHEMA_VERSION);
    assert.deepEqual(await first.load("7"), [{ user: "안녕", model: "응", at: 10 }]);
    await first.saveMemory("7", "- 인사함", 1);
    await first.close();
    const again = SqliteStore.open(path);
    assert.equal(await again.loadMemory("7"), "- 인사함");
    await again.close();
  });
});
/** A store whose file may grow by `spare` pages at most: SQLite itself then reports a full disk. */
function cappedStore(path: string, spare: number): { store: SqliteStore; db: DatabaseSync } {
  const db = new DatabaseSync(path);
  const store = SqliteStore.over(db);
  const { page_count } = db.prepare("PRAGMA page_count").get() as { page_count: number };
  db.exec(`PRAGMA max_page_count = ${page_count + spare}`);
  return { store, db };
}

Deno.test("SqliteStore reports SQLite's own error when the disk is full, not the ROLLBACK's", async () => {
  await withDatabaseFile(async (path) => {
    const { store } = cappedStore(path, 0);
    await assert.rejects(
      store.append("1", { user: "u".repeat(100_000), model: "m", at: 0 }, 20),
      { message: "database or disk is full", code: "ERR_SQLITE_ERROR" },
    );
    // The failed write left no transaction behind: reads and later writes still work.
    assert.deepEqual(await store.load("1"), []);
    await store.close();
  });
});

Deno.test("SqliteStore.probeWrite throws SQLite's error for a read-only database", async () => {
  await withDatabaseFile(async (path) => {
    SqliteStore.open(path).probeWrite();
    const store = SqliteStore.over(new DatabaseSync(path, { readOnly: true }));
    assert.throws(() => store.probeWrite(), { message: "attempt to write a readonly database" });
    await store.close();
  });
});

Deno.test("checkWritable names what SQLite says when the database can't be opened", () => {
  assert.throws(() => checkWritable("data/no-such-dir/s.db"), {
    message: /unable to open database file/,
  });
});

Deno.test("SqliteStore keeps turns in flight until ended, and hands them over oldest first", async () => {
  const store = SqliteStore.open(":memory:");
  await store.beginTurn("1", "late", 20);
  await store.beginTurn("2", "early", 10);
  await store.beginTurn("2", "early", 30); // noted again (a turn begun again): still one
  await store.beginTurn("3", "ended", 5);
  await store.endTurn("3", "ended");
  await store.beginTurn("4", "recorded", 6);
  await store.append("4", { user: "u", model: "m", at: 7, id: "recorded" }, 20);
  await store.beginTurn("5", "other", 8);
  await store.append("5", { user: "u", model: "m", at: 9 }, 20); // no id: ends nothing
  assert.deepEqual(await store.takeUnanswered(), [
    { channelId: "5", id: "other" },
    { channelId: "2", id: "early" },
    { channelId: "1", id: "late" },
  ]);
  assert.deepEqual(await store.takeUnanswered(), [], "turns handed over twice");
  await store.close();
});

Deno.test("SqliteStore keeps a turn in flight across a process that never ended it", async () => {
  await withDatabaseFile(async (path) => {
    const killed = SqliteStore.open(path);
    await killed.beginTurn("9", "m1", 1);
    await killed.close();
    const next = SqliteStore.open(path);
    assert.deepEqual(await next.takeUnanswered(), [{ channelId: "9", id: "m1" }]);
    await next.close();
  });
});

Deno.test("SqliteStore keeps a model turn's parts as received, and a damaged value falls back to the text", async () => {
  const store = SqliteStore.open(":memory:");
  const modelParts = [
    { thoughtSignature: "c2ln", toolCall: { toolType: "GOOGLE_SEARCH_WEB", id: "a1" } },
    { text: "서울이야." },
    { text: "", thoughtSignature: "ZW5k" },
  ];
  await store.append("1", { user: "q", model: "서울이야.", at: 1, id: "m1", modelParts }, 20);
  await store.append("1", { user: "q2", model: "응", at: 2 }, 20);
  assert.deepEqual(await store.load("1"), [
    { user: "q", model: "서울이야.", at: 1, id: "m1", modelParts },
    { user: "q2", model: "응", at: 2 },
  ]);
  await store.close();
});

Deno.test("SqliteStore keeps a model turn's parts, signatures included, and reads rows stored before them", async () => {
  await withDatabaseFile(async (path) => {
    // A database of the schema before parts (the column dropped again; the search switch's
    // migration came after it), holding an older exchange.
    const old = SqliteStore.open(path);
    await old.append("1", { user: "민수: 옛날", model: "옛날 대답", at: 1, id: "m1" }, 20);
    await old.close();
    const before = new DatabaseSync(path);
    before.exec(`ALTER TABLE exchanges DROP COLUMN model_parts;
      ALTER TABLE guild_settings DROP COLUMN search;
      PRAGMA user_version = ${SCHEMA_VERSION - 2};`);
    before.close();
    const store = SqliteStore.open(path);
    assert.equal(store.schemaVersion, SCHEMA_VERSION);
    const parts = [{ text: "새 대답" }, { text: "", thoughtSignature: "c2lnbmF0dXJl" }];
    await store.append("1", { user: "민수: 지금", model: "새 대답", at: 2, modelParts: parts }, 20);
    await store.close();
    const again = SqliteStore.open(path);
    assert.deepEqual(await again.load("1"), [
      { user: "민수: 옛날", model: "옛날 대답", at: 1, id: "m1" },
      { user: "민수: 지금", model: "새 대답", at: 2, modelParts: parts },
    ]);
    await again.close();
  });
});
