import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DEFAULT_GUILD_SETTINGS, SettingsStore } from "./settings_store.ts";
import { SCHEMA_VERSION, SqliteStore } from "./store.ts";

async function scratchFile(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ dir: "data" }).catch(async () => {
    await Deno.mkdir("data", { recursive: true });
    return await Deno.makeTempDir({ dir: "data" });
  });
  return { path: `${dir}/soyebot.db`, remove: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("settings are per server, and a DM or an untouched server has the defaults", () => {
  const settings = SettingsStore.open(":memory:");
  try {
    settings.setPersona("1", "해적");
    settings.setChannelMode("1", "10", "always");
    settings.setSummaries("2", false);
    settings.setSearch("1", true);
    assert.equal(settings.forGuild("1").search, true);
    assert.equal(settings.forGuild("2").search, false, "search is off by default");
    assert.equal(settings.forGuild("1").persona, "해적");
    assert.deepEqual([...settings.forGuild("1").alwaysChannels], ["10"]);
    assert.equal(settings.forGuild("1").summaries, true);
    assert.equal(settings.forGuild("2").persona, undefined);
    assert.equal(settings.forGuild("2").summaries, false);
    assert.equal(settings.forGuild(undefined), DEFAULT_GUILD_SETTINGS);
    assert.equal(settings.forGuild("3"), DEFAULT_GUILD_SETTINGS);
    settings.setChannelMode("1", "10", "mention");
    settings.setPersona("1", undefined);
    assert.deepEqual([...settings.forGuild("1").alwaysChannels], []);
    assert.equal(settings.forGuild("1").persona, undefined);
  } finally {
    settings.close();
  }
});

Deno.test("settings live in the sessions' file, migrated with it, and survive a reopen", async () => {
  const file = await scratchFile();
  try {
    const first = SettingsStore.open(file.path);
    first.setPersona("1", "해적");
    first.setChannelMode("1", "10", "always");
    first.setChannelMode("1", "11", "always");
    first.setChannelMode("1", "11", "mention");
    first.setSummaries("1", false);
    first.setSearch("1", true);
    first.close();
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
      again.close();
    }
  } finally {
    await file.remove();
  }
});

Deno.test("a write the database refuses throws and changes nothing in memory", async () => {
  const file = await scratchFile();
  try {
    const settings = SettingsStore.open(file.path);
    settings.setPersona("1", "처음");
    const other = new DatabaseSync(file.path);
    other.exec(`CREATE TRIGGER refuse BEFORE UPDATE ON guild_settings
                BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END`);
    other.close();
    assert.throws(() => settings.setPersona("1", "나중"), /disk is full/);
    assert.equal(settings.forGuild("1").persona, "처음");
    settings.close();
  } finally {
    await file.remove();
  }
});
