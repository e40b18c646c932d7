import { opendir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every file under `root`, recursively, in a deterministic order (entries sorted by name at
 * each level, depth first), hidden files and folders excluded. Streamed: the first file is
 * yielded without reading the whole tree. Symlinked folders are followed once (loops are cut).
 */
export async function* listFiles(root: string): AsyncGenerator<string> {
  const visited = new Set<string>([await realpath(root)]);
  yield* walk(root, visited);
}

async function* walk(folder: string, visited: Set<string>): AsyncGenerator<string> {
  const names: { name: string; isDirectory: boolean; isLink: boolean }[] = [];
  const directory = await opendir(folder);
  for await (const entry of directory) {
    if (entry.name.startsWith('.')) continue;
    names.push({ name: entry.name, isDirectory: entry.isDirectory(), isLink: entry.isSymbolicLink() });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    const path = join(folder, entry.name);
    if (entry.isLink) {
      const target = await stat(path).catch(() => undefined);
      if (!target) continue; // dangling link: nothing to read
      if (target.isDirectory()) {
        const real = await realpath(path);
        if (visited.has(real)) continue;
        visited.add(real);
        yield* walk(path, visited);
      } else if (target.isFile()) yield path;
    } else if (entry.isDirectory) {
      yield* walk(path, visited);
    } else {
      yield path;
    }
  }
}
