/**
 * `GEMINI_API_KEYS`, read: a comma list of keys, where keys of one Google Cloud project may be
 * written as one group, `projA:key1|key2,projB:key3`. Gemini counts quota per project, not per
 * key, so the pool gives a group one budget; a plain key is a project of its own.
 *
 * Problems are described without the keys themselves: they are secrets even when malformed.
 *
 * @module
 */

/** The keys in order, without duplicates, and the project (group) of each, by position. */
export interface KeyGroups {
  /** Every key, in the order written. */
  keys: string[];
  /** `projects[i]` is the group of `keys[i]`, or undefined for a key written on its own. */
  projects: (string | undefined)[];
}

/** A group name: letters, digits, `.`, `_` and `-`, as a project id or a short label. */
const GROUP_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Reads a `GEMINI_API_KEYS` value; a string describing the problem (never a key) when it is
 * malformed.
 *
 * @example
 * ```ts
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(parseKeyGroups("projA:k1|k2,k3"), {
 *   keys: ["k1", "k2", "k3"],
 *   projects: ["projA", "projA", undefined],
 * });
 * ```
 */
export function parseKeyGroups(value: string): KeyGroups | string {
  const keys: string[] = [];
  const projects: (string | undefined)[] = [];
  const groupOf = new Map<string, string | undefined>();
  const entries = value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (entries.length === 0) return "must name at least one API key";
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(":");
    const project = colon < 0 ? undefined : entry.slice(0, colon).trim();
    const list = colon < 0 ? entry : entry.slice(colon + 1);
    const where = `entry ${index + 1}`;
    if (project !== undefined && !GROUP_NAME.test(project)) {
      return `${where}: a group name before ':' may hold only letters, digits, '.', '_' and '-'`;
    }
    if (project === undefined && list.includes("|")) {
      return `${where}: keys joined with '|' need a group name first, as in projA:key1|key2`;
    }
    const members = list.split("|").map((key) => key.trim());
    if (members.some((key) => key === "" || /[\s:]/.test(key))) {
      return `${where}: each key must be non-empty, without spaces or ':' inside`;
    }
    for (const key of members) {
      if (groupOf.has(key)) {
        if (groupOf.get(key) !== project) {
          return `${where}: a key is written in two groups; a key belongs to one project`;
        }
        continue;
      }
      groupOf.set(key, project);
      keys.push(key);
      projects.push(project);
    }
  }
  return { keys, projects };
}
