import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';

/**
 * Every file under `root`, recursively, in a deterministic order (entries sorted by name at
 * each level, depth first), hidden files and folders excluded. Streamed: the first file is
 * yielded without reading the whole tree. Symlinked folders are followed once (loops are cut).
 */
export async function* listFiles(root: string): AsyncGenerator<string> {
  for await (const chunk of listFileChunks(root)) yield* chunk;
}

/** Files yielded together at most: a listing stays streamed in a folder of a million files. */
const CHUNK_FILES = 1024;

/**
 * listFiles() in runs of consecutive files. A consumer of every path (the partitioner) pays
 * one async step per run instead of one per file through nested generators: at 10,000
 * mini-batches a second, that was a tenth of the controller's time and garbage.
 */
export async function* listFileChunks(root: string): AsyncGenerator<string[]> {
  const visited = new Set<string>([await realpath(root)]);
  // The folders being read, depth first: each with its sorted entries and how far it got.
  const stack = [await readFolder(root)];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const files: string[] = [];
    let descend: string | undefined;
    while (top.next < top.entries.length && descend === undefined && files.length < CHUNK_FILES) {
      const entry = top.entries[top.next++]!;
      const path = top.prefix + entry.name;
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (!target) continue; // dangling link: nothing to read
        if (target.isDirectory()) {
          const real = await realpath(path);
          if (visited.has(real)) continue;
          visited.add(real);
          descend = path;
        } else if (target.isFile()) files.push(path);
      } else if (entry.isDirectory()) {
        descend = path;
      } else {
        files.push(path);
      }
    }
    if (files.length > 0) yield files;
    if (descend !== undefined) stack.push(await readFolder(descend));
    else if (top.next >= top.entries.length) stack.pop();
  }
}

async function readFolder(folder: string): Promise<{ prefix: string; entries: Dirent[]; next: number }> {
  // One folder's entries are read at once: they must all be known to be sorted anyway.
  const entries = (await readdir(folder, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  if (entries.some((entry) => entry.name.includes('\uFFFD'))) await refuseUndecodableNames(folder);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { prefix: folder.endsWith('/') ? folder : `${folder}/`, entries, next: 0 };
}

/**
 * A name that is not UTF-8 reaches JS as U+FFFD and can no longer be opened by it (nor handed to
 * a script as text): refused, naming the folder and the name's bytes. A name that really holds
 * U+FFFD, correctly encoded, passes.
 */
async function refuseUndecodableNames(folder: string): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (const raw of await readdir(folder, { encoding: 'buffer' })) {
    if (raw[0] === 0x2e) continue; // hidden: skipped anyway
    try {
      decoder.decode(raw);
    } catch {
      throw new InvalidInputError(
        'E_JOB_INVALID',
        `${folder}: the file name "${escapeName(raw)}" is not valid UTF-8; minibatch hands paths to scripts as text, so rename it (e.g. convmv -f latin1 -t utf8 --notest)`,
      );
    }
  }
}

/** Valid UTF-8 as text, every other byte as \xNN. */
function escapeName(raw: Buffer): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  for (let at = 0; at < raw.length; ) {
    const lead = raw[at] ?? 0;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    let text: string | undefined;
    try {
      if (length > 0 && at + length <= raw.length) text = decoder.decode(raw.subarray(at, at + length));
    } catch {
      text = undefined;
    }
    if (text !== undefined && (length > 1 || (lead >= 0x20 && lead !== 0x7f))) {
      out += text;
      at += length;
    } else {
      out += `\\x${lead.toString(16).padStart(2, '0')}`;
      at += 1;
    }
  }
  return out;
}
