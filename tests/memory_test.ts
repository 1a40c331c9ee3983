/**
 * The running memory, end to end through the real bot process: a fact said in turn 1 still
 * reaches Gemini in turn 60 (the window keeps only 20 exchanges, so it comes through the memory
 * the bot folded), `/reset` removes it, it survives SIGKILL, and a fold the fake Gemini refuses
 * keeps the old memory and is done again later.
 *
 * The fake answers a fold (a request whose system instruction is {@link FOLD_INSTRUCTION}) as a
 * model obeying it would: the old memory's lines, then one line per folded user line.
 */
import assert from "node:assert/strict";
import { MAX_EXCHANGES } from "../lib/sessions/window.ts";
import { FOLD_INSTRUCTION, MEMORY_PREAMBLE } from "../lib/text/prompts.ts";
import { DATABASE_FILE, SqliteStore } from "../lib/store/sqlite.ts";
import { text } from "../lib/text/strings_ko.ts";
import type { GenerateRequest } from "./fakes/fake_gemini.ts";
import { turns, until, World } from "./harness.ts";

const GUILD = "1300000000000000031";
const CHANNEL = "1200000000000000031";
/** Room for 60 turns from one user in a minute, and the default block size said out loud. */
const ENV = {
  USER_RATE_LIMIT: "1000",
  GEMINI_RPM: "1000",
  GEMINI_RPD: "100000",
  WINDOW_DROP_BLOCK: "10",
};
const FACT = "내 고양이 이름은 콩이야";
const FACT_WORD = "콩이";

/** A fold as a model that follows FOLD_INSTRUCTION would write it. */
function foldAnswer(request: GenerateRequest): string {
  const [old, folded] = request.lastUserText.split("\n\n[밀려난 대화]\n");
  const kept = old.split("\n").slice(1).filter((line) => line.startsWith("- "));
  const added = folded.split("\n").filter((line) => !line.startsWith("봇: "));
  return [...kept, ...added.map((line) => `- ${line}`)].join("\n");
}

const isFold = (body: Record<string, unknown>) =>
  (body.systemInstruction as { parts?: { text?: string }[] } | undefined)?.parts?.[0]?.text ===
    FOLD_INSTRUCTION;

function worldWithMemory(): Promise<World> {
  return World.create({
    gemini: {
      // One SSE chunk: each answer is one post, with no edit to wait a second for.
      chunks: 1,
      responder: (request) =>
        isFold(request.body) ? foldAnswer(request) : `응 (${request.lastUserText.length})`,
    },
  });
}

async function say(world: World, content: string) {
  return await world.mention(CHANNEL, GUILD, content);
}

/** Says `content` and waits for the bot's answer to it. */
async function turn(world: World, content: string): Promise<void> {
  const before = world.botMessages(CHANNEL).length;
  await say(world, content);
  await until(() => world.botMessages(CHANNEL).length > before, `the answer to "${content}"`);
}

/** Turns `from`..`to` (inclusive), each saying "말 <n>"; turn 1 states the fact. */
async function talk(world: World, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) await turn(world, n === 1 ? FACT : `말 ${n}`);
}

const chatRequests = (world: World) => world.generateRequests().filter((r) => !isFold(r.body));
const foldRequests = (world: World) => world.generateRequests().filter((r) => isFold(r.body));

/** The chat request that asked about `line` (the user's text, without the speaker). */
function requestFor(world: World, line: string) {
  const request = chatRequests(world).find((r) => turns(r).at(-1)?.[1] === `민수: ${line}`);
  assert.ok(request, `no Gemini request for "${line}"`);
  return request;
}

/** The memory a request carries (its first user turn, when that is the memory), or "". */
function memoryIn(request: ReturnType<typeof requestFor>): string {
  const [first] = turns(request);
  return first?.[0] === "user" && first[1].startsWith(MEMORY_PREAMBLE) ? first[1] : "";
}

/** Waits until the store holds a memory for the channel that passes `check`; returns it. */
async function storedMemory(world: World, check: (memory: string) => boolean): Promise<string> {
  const store = SqliteStore.open(`${world.dataDir}/${DATABASE_FILE}`);
  try {
    let memory = "";
    const deadline = Date.now() + 10_000;
    while (!check(memory = await store.loadMemory(CHANNEL))) {
      if (Date.now() > deadline) throw new Error(`no such memory stored; last: ${memory}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return memory;
  } finally {
    await store.close();
  }
}

Deno.test("a fact from turn 1 reaches Gemini in turn 60 through the running memory, and /reset removes it", async () => {
  const world = await worldWithMemory();
  try {
    // Chat thinks at the configured level; a fold at the lowest the model takes (its 300 output
    // tokens would otherwise go to thoughts).
    await world.startBot({ ...ENV, GEMINI_THINKING: "high" });
    await talk(world, 1, 60);

    const sixty = requestFor(world, "말 60");
    assert.ok(turns(sixty).length <= 2 * MAX_EXCHANGES + 3, "the window outgrew 20 exchanges");
    assert.match(memoryIn(sixty), new RegExp(FACT_WORD));
    assert.equal(
      turns(sixty).filter(([, said]) => said.includes(FACT_WORD)).length,
      1,
      "the fact reached turn 60 other than through the memory",
    );
    // Exchanges 1-10, 11-20, 21-30 and 31-40 were folded as they left; each fold asked once.
    const folds = foldRequests(world);
    assert.equal(folds.length, 4);
    for (const fold of folds) {
      const config = fold.body.generationConfig as { thinkingConfig?: { thinkingLevel?: string } };
      assert.equal(config.thinkingConfig?.thinkingLevel, "minimal", "a fold was let think");
      assert.equal(fold.body.contents.at(-1).role, "user", "a fold's last content is the user's");
    }
    const chatConfig = sixty.body.generationConfig as {
      thinkingConfig?: { thinkingLevel?: string; thinkingBudget?: number };
    };
    assert.deepEqual(chatConfig.thinkingConfig, { thinkingLevel: "high" }, "never a budget");

    const { id } = await world.discord.sendInteraction({
      channelId: CHANNEL,
      guildId: GUILD,
      name: "reset",
    });
    await until(
      () => world.discord.interaction(id)?.original?.content === text.resetDone,
      "the /reset answer",
    );
    await turn(world, "내 고양이 이름 뭐였지?");
    assert.deepEqual(turns(requestFor(world, "내 고양이 이름 뭐였지?")), [
      ["user", "민수: 내 고양이 이름 뭐였지?"],
    ]);
  } finally {
    await world.close();
  }
});

Deno.test("the memory survives SIGKILL, and a fold Gemini refuses keeps the old memory and is done again at the next turn", async () => {
  const world = await worldWithMemory();
  try {
    const first = await world.startBot(ENV);
    await talk(world, 1, 21);
    const folded = await storedMemory(world, (m) => m.includes(FACT_WORD));

    await first.stop("SIGKILL");
    const second = await world.startBot(ENV);
    await turn(world, "말 22");
    assert.match(memoryIn(requestFor(world, "말 22")), new RegExp(FACT_WORD));

    await talk(world, 23, 30);
    assert.equal(foldRequests(world).length, 1);
    // Turn 31 pushes exchanges 11-20 out; its answer is scripted, and the fold after it refused.
    world.gemini.reply("응.").failStatus(400);
    await turn(world, "말 31");
    await until(() => foldRequests(world).length === 2, "the refused fold");
    // The session hands out one fold at a time: turn 32 offers it again only once the refusal
    // is back in the session, which on a loaded machine can be after turn 32 began.
    await second.waitForOutput(/Memory fold failed, kept the old memory/);
    await turn(world, "말 32");
    // The old memory was kept, and the same exchanges were folded again, onto it.
    assert.match(memoryIn(requestFor(world, "말 32")), new RegExp(FACT_WORD));
    await until(() => foldRequests(world).length === 3, "the fold done again");
    const [refused, again] = foldRequests(world).slice(1).map((r) => turns(r)[0][1]);
    assert.equal(again, refused);
    assert.ok(again.includes(folded), "the fold done again was not given the old memory");
    assert.ok(again.includes("민수: 말 11") && again.includes("민수: 말 20"));
    await storedMemory(world, (m) => m.includes(FACT_WORD) && m.includes("말 20"));
  } finally {
    await world.close();
  }
});
