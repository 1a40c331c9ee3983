/**
 * A bot as a child `deno` process for benchmarks: its output is drained as it comes, so a
 * chatty log never blocks it, and only the tail is kept, so a long load never fills the
 * benchmark's memory with it.
 *
 * @module
 */

/** How much of the bot's output is kept for error messages. */
const TAIL_CHARS = 8_000;
/** How long a bot may take to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

/** A bot process started with `deno <args>` and only the environment it is given. */
export class BotChild {
  readonly #child: Deno.ChildProcess;
  readonly #exited: Promise<Deno.CommandStatus>;
  #tail = "";
  #status: Deno.CommandStatus | undefined;

  /** Spawns `deno <args>` in `cwd`, with `env` and NO_COLOR as its whole environment. */
  constructor(args: string[], options: { cwd: string; env: Record<string, string> }) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: options.cwd,
      env: { NO_COLOR: "1", ...options.env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = Promise.all([this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)]);
    this.#exited = this.#child.status.then(async (status) => {
      await pumps;
      this.#status = status;
      return status;
    });
  }

  /** The process id, for reading its figures in /proc. */
  get pid(): number {
    return this.#child.pid;
  }

  /** The last few thousand characters the bot wrote to stdout and stderr. */
  get tail(): string {
    return this.#tail;
  }

  /** Polls `condition` until it holds; fails if the bot exits first or `timeoutMs` passes. */
  async until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.#status) throw new Error(`the bot exited with ${this.#status.code} before ${what}`);
      if (Date.now() > deadline) throw new Error(`the bot did not ${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Asks the bot to stop with SIGTERM, kills it if it takes too long, and waits for the exit. */
  async stop(): Promise<Deno.CommandStatus> {
    if (this.#status) return this.#status;
    this.#child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<void>((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS));
    const stopped = await Promise.race([this.#exited, overdue]);
    clearTimeout(timer);
    if (stopped) return stopped;
    this.#child.kill("SIGKILL");
    return await this.#exited;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.#tail = (this.#tail + decoder.decode(chunk, { stream: true })).slice(-TAIL_CHARS);
    }
  }
}
