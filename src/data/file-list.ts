import { readdir, realpath, stat } from 'node:fs/promises';

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
  // One folder's entries are read at once: they must all be known to be sorted anyway.
  const entries = (await readdir(folder, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const prefix = folder.endsWith('/') ? folder : `${folder}/`;
  for (const entry of entries) {
    const path = prefix + entry.name;
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      if (!target) continue; // dangling link: nothing to read
      if (target.isDirectory()) {
        const real = await realpath(path);
        if (visited.has(real)) continue;
        visited.add(real);
        yield* walk(path, visited);
      } else if (target.isFile()) yield path;
    } else if (entry.isDirectory()) {
      yield* walk(path, visited);
    } else {
      yield path;
    }
  }
}
