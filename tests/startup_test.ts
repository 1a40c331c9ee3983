/** Start-up through the real entry point, as `deno task start` runs it. */
import assert from "node:assert/strict";
import { ROOT } from "./harness.ts";

async function start(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  // A scratch working directory, so a developer's own .env cannot change the outcome.
  await Deno.mkdir(`${ROOT}data`, { recursive: true });
  const cwd = await Deno.makeTempDir({ dir: `${ROOT}data` });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P=bot", "--config", `${ROOT}deno.json`, `${ROOT}main.ts`],
      cwd,
      env: { NO_COLOR: "1", ...env },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

Deno.test("start without credentials exits 2 and says exactly what to set", async () => {
  const { code, stderr } = await start({});
  assert.equal(code, 2);
  assert.match(stderr, /DISCORD_TOKEN and GEMINI_API_KEY are missing/);
});

Deno.test("start with a malformed setting exits 2 naming the variable and what it expects", async () => {
  const token = `${btoa("1100000000000000001")}.abc.secretpart`;
  const { code, stderr } = await start({
    DISCORD_TOKEN: token,
    GEMINI_API_KEY: "k-123456789",
    SESSION_IDLE_MINUTES: "-5",
  });
  assert.equal(code, 2);
  assert.match(stderr, /SESSION_IDLE_MINUTES must be a whole number from 1 to 10080\n/);
  assert.doesNotMatch(stderr, /secretpart/);
});

Deno.test("start with a key pasted into HTTP_PORT exits 2 naming HTTP_PORT, never the key", async () => {
  const pasted = "AIzaSyPastedIntoHttpPort0123456789abcd";
  const { code, stderr } = await start({
    DISCORD_TOKEN: `${btoa("1100000000000000001")}.abc.def`,
    GEMINI_API_KEY: "k-123456789",
    HTTP_PORT: pasted,
  });
  assert.equal(code, 2);
  assert.match(stderr, /HTTP_PORT must be a whole number from 0 to 65535/);
  assert.ok(
    !stderr.includes(pasted),
    `stderr shows the pasted key:\n${stderr.replace(pasted, "<key>")}`,
  );
  assert.ok(!stderr.includes(pasted.slice(0, 12)), "stderr shows part of the pasted key");
});

Deno.test("start with DATA_DIR outside what the bot may write exits 2 naming DATA_DIR", async () => {
  const { code, stderr } = await start({
    DISCORD_TOKEN: `${btoa("1100000000000000001")}.abc.def`,
    GEMINI_API_KEY: "k-123456789",
    DATA_DIR: "/tmp/soyebot-elsewhere",
  });
  assert.equal(code, 2);
  assert.match(stderr, /DATA_DIR must name a directory the bot may write/);
});

Deno.test("start with a Gemini URL on a host the bot may not reach exits 2 naming it", async () => {
  const { code, stderr } = await start({
    DISCORD_TOKEN: `${btoa("1100000000000000001")}.abc.def`,
    GEMINI_API_KEY: "k-123456789",
    GEMINI_API_URL: "https://gemini-proxy.example.org",
  });
  assert.equal(code, 2);
  assert.match(stderr, /GEMINI_API_URL must name a host/);
});

Deno.test("start with an attachment budget below one message's files exits 2 naming it", async () => {
  const { code, stderr } = await start({
    DISCORD_TOKEN: `${btoa("1100000000000000001")}.abc.secretpart`,
    GEMINI_API_KEY: "k-123456789",
    ATTACHMENT_MAX_TOTAL_BYTES: "2000",
    ATTACHMENT_BUDGET_BYTES: "1000",
  });
  assert.equal(code, 2);
  assert.match(stderr, /ATTACHMENT_BUDGET_BYTES must be a whole number from 2000 to \d+\n/);
});
