import { statSync, type Stats } from 'node:fs';
import type { MiniBatchDescriptor } from './descriptors.js';

export class OverheadTimeoutError extends Error {
  override name = 'OverheadTimeoutError';
}

/**
 * Runs in the worker, before run(): turns a descriptor into what run() receives, within
 * overhead_timeout. For a file list that is the paths themselves, checked to still be
 * readable files, so a file that vanished since listing fails its mini-batch with its name,
 * not somewhere inside the user's script. (Tabular descriptors will read their rows here.)
 */
export function loadMiniBatch(descriptor: MiniBatchDescriptor, overheadTimeoutMs: number): Promise<string[]> {
  return withinTime(checkFiles(descriptor.files), overheadTimeoutMs);
}

/*
 * Synchronous stats on purpose: a thread-pool round trip per file costs more than the stat
 * itself and, on a 2-core machine, slows every quick mini-batch. A stat that hangs (a dead
 * network mount) is still ended by the controller's kill at the run timeout.
 */
async function checkFiles(files: string[]): Promise<string[]> {
  for (const file of files) {
    let info: Stats | undefined;
    try {
      info = statSync(file, { throwIfNoEntry: false });
    } catch (error) {
      throw new Error(`input file ${file} cannot be read: ${(error as Error).message}`);
    }
    if (!info) throw new Error(`input file ${file} cannot be read: it no longer exists`);
    if (!info.isFile()) throw new Error(`input file ${file} is no longer a file`);
  }
  return files;
}

/** Loading is engine code doing I/O, so a timer can race it (a hung run() needs the controller's kill instead). */
export async function withinTime<T>(loading: Promise<T>, limitMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OverheadTimeoutError(`loading the mini-batch exceeded overhead_timeout (${limitMs / 1000}s)`)), limitMs);
  });
  try {
    return await Promise.race([loading, expired]);
  } finally {
    clearTimeout(timer);
  }
}
