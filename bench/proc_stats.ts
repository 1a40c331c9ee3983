/**
 * A whole process's CPU time and memory, read from Linux's `/proc/<pid>/stat` and `status`. The
 * figures cover every thread of the process, so a bot's Web Workers count with its main thread.
 *
 * Deno grants `/proc` only with `--allow-all`, so the files are read through `cat` (the `run`
 * permission) and the clock tick through `getconf CLK_TCK`.
 *
 * @module
 */

/** What one look at a process found. */
export interface ProcessSample {
  /** User plus system CPU time since the process started, over all its threads, in ms. */
  cpuMs: number;
  /** Resident set size now (`VmRSS`), in MB. */
  rssMb: number;
  /** The highest resident set size so far (`VmHWM`), in MB. */
  peakRssMb: number;
}

/**
 * User plus system time, in clock ticks, from the text of `/proc/<pid>/stat`. The fields are
 * counted after the command name's closing parenthesis, since the name itself may hold spaces.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * const stat = "42 (deno worker) S 1 42 42 0 -1 4194560 900 0 0 0 250 30 0 0 20 0 9 0 1 2 3";
 * equal(cpuTicks(stat), 280);
 * ```
 */
export function cpuTicks(stat: string): number {
  const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 (utime) and 15 (stime) of proc(5); the state, field 3, is afterName[0].
  const utime = Number(afterName[14 - 3]);
  const stime = Number(afterName[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new TypeError(`Cannot read utime and stime from /proc stat: ${stat.slice(0, 120)}`);
  }
  return utime + stime;
}

/**
 * A `kB` field of `/proc/<pid>/status`, such as `VmRSS`, in kB.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * equal(statusKb("Name:\tdeno\nVmHWM:\t  90112 kB\nVmRSS:\t  81920 kB\n", "VmRSS"), 81920);
 * ```
 */
export function statusKb(status: string, field: string): number {
  const match = status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"));
  if (!match) throw new TypeError(`Cannot find ${field} in /proc status`);
  return Number(match[1]);
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

let ticksPerSecond: number | undefined;

/** Reads a process's CPU time and memory now. */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  ticksPerSecond ??= Number((await run("getconf", ["CLK_TCK"])).trim());
  const [stat, status] = await Promise.all([
    run("cat", [`/proc/${pid}/stat`]),
    run("cat", [`/proc/${pid}/status`]),
  ]);
  return {
    cpuMs: (cpuTicks(stat) * 1000) / ticksPerSecond,
    rssMb: statusKb(status, "VmRSS") / 1024,
    peakRssMb: statusKb(status, "VmHWM") / 1024,
  };
}
