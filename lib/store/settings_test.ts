import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_GUILD_SETTINGS, SettingsStore } from "./settings.ts";
import { SCHEMA_VERSION, SqliteStore } from "./sqlite.ts";

async function scratchFile(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ dir: "data" }).catch(async () => {
    await Deno.mkdir("data", { recursive: true });
    return await Deno.makeTempDir({ dir: "data" });
  });
  return { path: `${dir}/soyebot.db`, remove: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("settings are per server, and a DM or an untouched server has the defaults", async () => {
  const settings = SettingsStore.open(":memory:");
  try {
    await settings.setPersona("1", "해적");
    await settings.setChannelMode("1", "10", "always");
    await settings.setSummaries("2", false);
    await settings.setSearch("1", true);
    assert.equal(settings.forGuild("1").search, true);
    assert.equal(settings.forGuild("2").search, false, "search is off by default");
    assert.equal(settings.forGuild("1").persona, "해적");
    assert.deepEqual([...settings.forGuild("1").alwaysChannels], ["10"]);
    assert.equal(settings.forGuild("1").summaries, true);
    assert.equal(settings.forGuild("2").persona, undefined);
    assert.equal(settings.forGuild("2").summaries, false);
    assert.equal(settings.forGuild(undefined), DEFAULT_GUILD_SETTINGS);
    assert.equal(settings.forGuild("3"), DEFAULT_GUILD_SETTINGS);
    await settings.setChannelMode("1", "10", "mention");
    await settings.setPersona("1", undefined);
    assert.deepEqual([...settings.forGuild("1").alwaysChannels], []);
    assert.equal(settings.forGuild("1").persona, undefined);
  } finally {
    await settings.close();
  }
});

Deno.test("settings live in the sessions' file, migrated with it, and survive a reopen", async () => {
  const file = await scratchFile();
  try {
    const first = SettingsStore.open(file.path);
    await first.setPersona("1", "해적");
    await first.setChannelMode("1", "10", "always");
    await first.setChannelMode("1", "11", "always");
    await first.setChannelMode("1", "11", "mention");
    await first.setSummaries("1", false);
    await first.setSearch("1", true);
    await first.close();
    // The session store opens the same file at the same schema version.
    const sessions = SqliteStore.open(file.path);
    assert.equal(sessions.schemaVersion, SCHEMA_VERSION);
    await sessions.close();
    const again = SettingsStore.open(file.path);
    try {
      const settings = again.forGuild("1");
      assert.equal(settings.persona, "해적");
      assert.deepEqual([...settings.alwaysChannels], ["10"]);
      assert.equal(settings.summaries, false);
      assert.equal(settings.search, true);
    } finally {
      await again.close();
    }
  } finally {
    await file.remove();
  }
});

Deno.test("a write the database refuses throws and changes nothing in memory", async () => {
  const file = await scratchFile();
  try {
    const settings = SettingsStore.open(file.path);
    await settings.setPersona("1", "처음");
    const other = new DatabaseSync(file.path);
    other.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON guild_settings
                BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    other.close();
    await assert.rejects(settings.setPersona("1", "나중"), /disk is full/);
    assert.equal(settings.forGuild("1").persona, "처음");
    await settings.close();
  } finally {
    await file.remove();
  }
});

Deno.test("a channel's mode changes only within the server that set it", async () => {
  const settings = SettingsStore.open(":memory:");
  try {
    await settings.setChannelMode("1", "10", "always");
    // Another server naming the same channel changes neither that server's row nor its memory.
    await settings.setChannelMode("2", "10", "mention");
    assert.deepEqual([...settings.forGuild("1").alwaysChannels], ["10"]);
  } finally {
    await settings.close();
  }
});

Deno.test("a write waiting for another connection's lock leaves this thread free", async () => {
  const file = await scratchFile();
  try {
    const settings = SettingsStore.open(file.path);
    const other = new DatabaseSync(file.path);
    other.exec("BEGIN IMMEDIATE");
    const saved = settings.setPersona("1", "해적");
    // The thread runs a timer while the write waits for the lock (which it can't get yet).
    const timer = new Promise((resolve) => setTimeout(() => resolve("timer"), 50));
    assert.equal(await Promise.race([saved.then(() => "saved"), timer]), "timer");
    assert.equal(settings.forGuild("1").persona, undefined, "not changed before it is saved");
    other.exec("COMMIT");
    other.close();
    await saved;
    assert.equal(settings.forGuild("1").persona, "해적");
    await settings.close();
  } finally {
    await file.remove();
  }
});
