import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import picomatch from 'picomatch';
import { listFiles } from './file-list.js';

/**
 * Files under `baseFolder` whose path relative to it matches the glob `pattern` (picomatch
 * syntax: `*`, `**`, `?`, `[a-z]`, `{a,b}`; a leading `./` is allowed), as absolute paths in
 * `listFiles` order (sorted by name at each level, depth first, hidden entries excluded), so a
 * pattern lists files in the same order as the folder holding them would.
 *
 * Only the pattern's fixed leading folders are walked: `data/2024/*.csv` never reads the rest
 * of the tree, and a pattern that climbs out (`../other/*.csv`) or is absolute still works.
 * A pattern that matches nothing, or whose fixed folders do not exist, gives an empty list.
 */
export async function globFiles(baseFolder: string, pattern: string): Promise<string[]> {
  const base = resolve(baseFolder);
  const scan = picomatch.scan(pattern);
  // A negated pattern has no fixed part: everything under the base is a candidate.
  const root = scan.negated ? base : resolve(base, scan.base || '.');
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat) return [];

  if (!scan.negated && !scan.isGlob) {
    // No wildcard at all: the pattern names one file (a folder is not a file, so it matches nothing).
    return rootStat.isFile() ? [root] : [];
  }
  if (!rootStat.isDirectory()) return [];

  const isMatch = picomatch(scan.negated ? pattern : scan.glob);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const matched: string[] = [];
  for await (const file of listFiles(root)) {
    if (isMatch(file.slice(prefix.length))) matched.push(file);
  }
  return matched;
}
