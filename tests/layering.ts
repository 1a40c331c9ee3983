/**
 * The layering check: `lib/`'s folders only point down. It reads every import of `lib/`'s
 * modules (static, `export … from`, dynamic, `new URL(…, import.meta.url)`, JSDoc examples too;
 * tests may reach anywhere but into `actors/`) and reports a cycle between folders, a file at `lib/`'s root importing a folder, and `lib/`
 * importing `actors/`; and a module importing past another folder's door (its `mod.ts`).
 * `deno task check` runs it: `deno run -R=. tests/layering.ts`.
 *
 * @module
 */

/** A relative specifier as an import, an export or a worker's URL names it. */
const SPECIFIER = new RegExp(
  [
    /(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"'\n]*)["']/.source,
    /\bimport\(\s*["'](\.{1,2}\/[^"'\n]*)["']/.source,
    /\bnew URL\(\s*["'`](\.{1,2}\/[^"'`\n$]*)["'`]\s*,\s*import\.meta\.url/.source,
  ].join("|"),
  "g",
);

/** A static `import … from` at the start of a line (not an export, a dynamic import, or a URL). */
const STATIC_IMPORT = /^import\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"'\n]*)["']/gm;

/** One import of one file: from `file` to `target`, both repository-relative. */
export interface Import {
  file: string;
  target: string;
}

/** The repository-relative paths a file's source imports (relative specifiers only). */
export function importsOf(file: string, source: string): Import[] {
  const imports: Import[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const spec = match[1] ?? match[2] ?? match[3];
    const target = new URL(spec, `file:///${file}`).pathname.slice(1);
    imports.push({ file, target });
  }
  return imports;
}

/** `lib/x/y.ts` → "x"; `lib/y.ts` → "" (the root); outside lib → undefined. */
export function folderOf(path: string): string | undefined {
  if (!path.startsWith("lib/")) return undefined;
  const rest = path.slice("lib/".length).split("/");
  return rest.length > 1 ? rest[0] : "";
}

/**
 * What breaks the layering among `files` (repository-relative path → source): each problem a
 * sentence naming the files. Empty when the folders only point down.
 *
 * @example
 * ```ts
 * import { strictEqual } from "node:assert/strict";
 * const files = new Map([
 *   ["lib/a/x.ts", 'import { y } from "../b/y.ts";'],
 *   ["lib/b/y.ts", 'import { x } from "../a/x.ts";'],
 * ]);
 * strictEqual(layeringProblems(files).length, 1);
 * ```
 */
export function layeringProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  /** folder → folder → one file that makes the edge. */
  const edges = new Map<string, Map<string, string>>();
  for (const [file, source] of files) {
    const from = folderOf(file);
    if (from === undefined) continue;
    // A test may use what sits above its module (a Gemini test asking the broker's rules what
    // an error means); the bot's own modules, their doc examples included, may not.
    const isTest = file.endsWith("_test.ts");
    for (const { target } of importsOf(file, source)) {
      if (target.startsWith("actors/")) {
        problems.push(`${file} imports ${target}: lib/ must not import actors/`);
        continue;
      }
      if (isTest) continue;
      const to = folderOf(target);
      if (to === undefined || to === from) continue;
      if (from === "" && to !== "") {
        problems.push(`${file} is at lib/'s root but imports the folder ${to}/ (${target})`);
        continue;
      }
      if (to === "") continue;
      if (!edges.has(from)) edges.set(from, new Map());
      if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, `${file} -> ${target}`);
    }
  }
  // One door per folder: where a folder has a mod.ts, other folders' modules import only that.
  for (const [file, source] of files) {
    const from = folderOf(file);
    if (from === undefined || file.endsWith("_test.ts")) continue;
    for (const match of source.matchAll(STATIC_IMPORT)) {
      const target = new URL(match[1], `file:///${file}`).pathname.slice(1);
      const to = folderOf(target);
      if (to === undefined || to === "" || to === from) continue;
      const door = `lib/${to}/mod.ts`;
      if (files.has(door) && target !== door) {
        problems.push(`${file} imports ${target} past its folder's door: import it from ${door}`);
      }
    }
  }
  for (const cycle of cycles(edges)) {
    const steps = cycle.map((folder, i) => {
      const next = cycle[(i + 1) % cycle.length];
      return `  ${folder}/ -> ${next}/ (${edges.get(folder)!.get(next)})`;
    });
    problems.push(
      `Folders in a cycle: ${cycle.join("/ -> ")}/ -> ${cycle[0]}/\n${steps.join("\n")}`,
    );
  }
  return problems;
}

/** One cycle through each strongly connected group of folders (Tarjan), as a list of folders. */
function cycles(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) groups.push(group);
  };
  for (const node of [...edges.keys()].sort()) if (!index.has(node)) visit(node);
  return groups.map((group) => shortestCycle(group, edges));
}

/** A shortest cycle through the first (alphabetically) member of a strongly connected group. */
function shortestCycle(
  group: string[],
  edges: ReadonlyMap<string, ReadonlyMap<string, string>>,
): string[] {
  const members = new Set(group);
  const start = [...group].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return path;
      }
      if (previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return group;
}

/**
 * The folders and the direction of their imports, top first: each folder with the folders its
 * modules import (tests left out), then the root's modules. For the README's architecture section.
 */
export function folderMap(files: ReadonlyMap<string, string>): string {
  const imports = new Map<string, Set<string>>();
  const rootModules: string[] = [];
  for (const [file, source] of files) {
    const from = folderOf(file);
    if (from === undefined || file.endsWith("_test.ts")) continue;
    if (from === "") {
      rootModules.push(file.slice("lib/".length, -".ts".length));
      continue;
    }
    if (!imports.has(from)) imports.set(from, new Set());
    for (const { target } of importsOf(file, source)) {
      const to = folderOf(target);
      if (to !== undefined && to !== "" && to !== from) imports.get(from)!.add(to);
    }
  }
  // Depth: 0 for a folder importing no folder, else 1 + the deepest it imports.
  const depth = new Map<string, number>();
  const depthOf = (folder: string, seen: Set<string>): number => {
    if (depth.has(folder)) return depth.get(folder)!;
    if (seen.has(folder)) return 0;
    seen.add(folder);
    const below = [...(imports.get(folder) ?? [])].map((f) => depthOf(f, seen));
    const d = below.length === 0 ? 0 : 1 + Math.max(...below);
    depth.set(folder, d);
    return d;
  };
  const order = [...imports.keys()].sort((a, b) =>
    depthOf(b, new Set()) - depthOf(a, new Set()) || a.localeCompare(b)
  );
  const width = Math.max(...order.map((f) => f.length)) + 2;
  const lines = order.map((folder) => {
    const targets = [...imports.get(folder)!].sort((a, b) =>
      depthOf(b, new Set()) - depthOf(a, new Set()) || a.localeCompare(b)
    );
    const name = `${folder}/`.padEnd(width);
    return `  ${name}─▶ ${
      targets.length ? targets.map((t) => `${t}/`).join(" ") : "(the root only)"
    }`;
  });
  lines.push(`  ${"*.ts".padEnd(width)}   ${rootModules.sort().join(" ")}: import no folder`);
  return lines.join("\n");
}

/** Every `.ts` file under `dir` (repository-relative), with its source. */
export function readSources(root: string, dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (path: string) => {
    for (const entry of Deno.readDirSync(`${root}/${path}`)) {
      const child = `${path}/${entry.name}`;
      if (entry.isDirectory) walk(child);
      else if (entry.name.endsWith(".ts")) {
        files.set(child, Deno.readTextFileSync(`${root}/${child}`));
      }
    }
  };
  walk(dir);
  return files;
}

if (import.meta.main && Deno.args.includes("--map")) {
  console.log(folderMap(readSources(new URL("../", import.meta.url).pathname, "lib")));
} else if (import.meta.main) {
  const root = new URL("../", import.meta.url).pathname;
  const problems = layeringProblems(readSources(root, "lib"));
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`Layering: ${problems.length} problem(s) in lib/'s imports`);
    Deno.exit(1);
  }
  console.log("Layering: lib/'s folders only point down");
}
