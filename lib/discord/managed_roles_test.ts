import { strictEqual } from "node:assert/strict";
import { ManagedRoles } from "./managed_roles.ts";

const BOT = "1100000000000000001";
const OTHER_BOT = "1100000000000000002";
const GUILD = "1300000000000000001";
const ROLE = "1500000000000000001";

Deno.test("ManagedRoles finds the bot's role in GUILD_CREATE among other roles", () => {
  const roles = new ManagedRoles(BOT);
  roles.guildSeen({
    id: GUILD,
    roles: [
      { id: GUILD, name: "@everyone" },
      { id: "1500000000000000009", tags: { bot_id: OTHER_BOT } },
      { id: ROLE, tags: { bot_id: BOT } },
      { id: "1500000000000000008", tags: { premium_subscriber: null } },
    ],
  });
  strictEqual(roles.roleIn(GUILD), ROLE);
  strictEqual(roles.roleIn("1300000000000000002"), undefined);
  strictEqual(roles.roleIn(undefined), undefined);
});

Deno.test("ManagedRoles follows role create, update and delete, and leaving the guild", () => {
  const roles = new ManagedRoles(BOT);
  roles.roleSeen(GUILD, { id: ROLE, tags: { bot_id: BOT } });
  strictEqual(roles.roleIn(GUILD), ROLE);
  roles.roleDeleted(GUILD, "1500000000000000009");
  strictEqual(roles.roleIn(GUILD), ROLE);
  roles.roleDeleted(GUILD, ROLE);
  strictEqual(roles.roleIn(GUILD), undefined);
  roles.roleSeen(GUILD, { id: ROLE, tags: { bot_id: BOT } });
  roles.guildGone(GUILD);
  strictEqual(roles.roleIn(GUILD), undefined);
});

Deno.test("ManagedRoles ignores malformed events", () => {
  const roles = new ManagedRoles(BOT);
  roles.guildSeen({ id: "../x", roles: [{ id: ROLE, tags: { bot_id: BOT } }] });
  roles.guildSeen({ id: GUILD });
  roles.roleSeen(GUILD, { id: "<@&1>", tags: { bot_id: BOT } });
  roles.roleSeen(GUILD, undefined);
  strictEqual(roles.roleIn(GUILD), undefined);
  strictEqual(roles.roleIn("../x"), undefined);
});
