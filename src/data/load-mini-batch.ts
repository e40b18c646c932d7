import { statSync, type Stats } from 'node:fs';
import type { RowProblem } from './delimited-reader.js';
import type { MiniBatchDescriptor, TablePart, TableShape } from './descriptors.js';
import { tabularMiniBatch, type TabularMiniBatch } from './tabular-mini-batch.js';

export class OverheadTimeoutError extends Error {
  override name = 'OverheadTimeoutError';
}

export interface LoadedMiniBatch {
  /** What run() receives: paths for a file list, rows for a table. */
  data: string[] | TabularMiniBatch;
  /** Rows that could not be read (ragged, not JSON): failed items, not passed to run(). */
  problems: RowProblem[];
}

/**
 * Runs in the worker, before run(): turns a descriptor into what run() receives, within
 * overhead_timeout. A file list is checked to still be readable files (a vanished file fails
 * its mini-batch by name, not somewhere inside the user's script); a table's parts are read.
 */
export async function loadMiniBatch(descriptor: MiniBatchDescriptor, overheadTimeoutMs: number): Promise<LoadedMiniBatch> {
  // Checked synchronously, a file list needs no timer: none could fire before the check ends.
  if (descriptor.kind === 'files') return { data: checkFiles(descriptor.files), problems: [] };
  return withinTime(readTable(descriptor.parts, descriptor.shape, descriptor.partitionKeyValue), overheadTimeoutMs);
}

/*
 * Synchronous stats on purpose: a thread-pool round trip per file costs more than the stat
 * itself and, on a 2-core machine, slows every quick mini-batch. A stat that hangs (a dead
 * network mount) is still ended by the controller's kill at the run timeout.
 */
function checkFiles(files: string[]): string[] {
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

/*
 * The readers (Papa Parse, hyparquet) are loaded by the first table mini-batch that needs them:
 * a worker of a file-list job starts without them (W7, time to first task).
 */
let delimited: Promise<typeof import('./delimited-reader.js')> | undefined;
let parquet: Promise<typeof import('./parquet-reader.js')> | undefined;
const delimitedReader = () => (delimited ??= import('./delimited-reader.js'));
const parquetReader = () => (parquet ??= import('./parquet-reader.js'));

async function readTable(parts: TablePart[], shape: TableShape, partitionKeyValue: Record<string, unknown> | undefined): Promise<LoadedMiniBatch> {
  const rows: Record<string, unknown>[] = [];
  const problems: RowProblem[] = [];
  const columns = new Map<string, true>();
  for (const part of parts) {
    const read: { columns: string[]; rows: Record<string, unknown>[]; problems?: RowProblem[] } =
      part.format === 'delimited'
        ? await (await delimitedReader()).readDelimitedPart(part)
        : part.format === 'json_lines'
          ? await (await delimitedReader()).readJsonLinesPart(part)
          : await (await parquetReader()).readParquetPart(part);
    for (const column of read.columns) columns.set(column, true);
    if (read.problems) problems.push(...read.problems);
    if (part.pathColumns) {
      const extra = Object.entries(part.pathColumns);
      for (const [name] of extra) columns.set(name, true);
      for (const row of read.rows) for (const [name, value] of extra) row[name] = value;
    }
    for (const row of read.rows) rows.push(row);
  }
  let names = [...columns.keys()];
  if (shape.keepColumns || shape.dropColumns) {
    const keep = shape.keepColumns ? new Set(shape.keepColumns) : undefined;
    const drop = new Set(shape.dropColumns ?? []);
    const kept = names.filter((name) => (!keep || keep.has(name)) && !drop.has(name));
    if (kept.length !== names.length) {
      for (let index = 0; index < rows.length; index++) {
        const row = rows[index] as Record<string, unknown>;
        const shaped: Record<string, unknown> = {};
        for (const name of kept) shaped[name] = row[name];
        rows[index] = shaped;
      }
      names = kept;
    }
  }
  return { data: tabularMiniBatch(rows, names, partitionKeyValue), problems };
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
