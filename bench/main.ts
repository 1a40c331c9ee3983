/**
 * `deno task bench`: runs every benchmark file in `bench/`, one after another, each in its own
 * `deno` process so that one's memory and timers never colour another's figures. Files that do
 * not exist (yet) are skipped.
 *
 * @module
 */

/** The benchmark files, in the order they run. */
export const BENCHES = [
  "sessions.ts",
  "broker.ts",
  "tokens.ts",
  "first_text.ts",
  "burst.ts",
  "e2e.ts",
  "scale.ts",
] as const;

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../", import.meta.url);

async function exists(url: URL): Promise<boolean> {
  try {
    return (await Deno.stat(url)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Runs each existing benchmark; resolves with the names of those that failed. */
export async function runAll(): Promise<string[]> {
  const failed: string[] = [];
  for (const name of BENCHES) {
    if (!(await exists(new URL(name, HERE)))) {
      console.log(`# bench/${name}: not present, skipped\n`);
      continue;
    }
    console.log(`# bench/${name}`);
    const started = performance.now();
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-P=bench", `bench/${name}`],
      cwd: ROOT.pathname,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`# bench/${name}: exit ${status.code} after ${seconds} s\n`);
    if (!status.success) failed.push(name);
  }
  return failed;
}

if (import.meta.main) {
  const failed = await runAll();
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(", ")}`);
    Deno.exit(1);
  }
}
