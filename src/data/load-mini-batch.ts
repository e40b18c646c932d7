import { statSync, type Stats } from 'node:fs';
import type { RowProblem } from './delimited-reader.js';
import type { DelimitedPart, JsonLinesPart, MiniBatchDescriptor, TablePart, TableShape } from './descriptors.js';
import { tabularMiniBatch, type TabularMiniBatch } from './tabular-mini-batch.js';
import type { TabularFormat } from './tabular-source.js';

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
 * overhead_timeout. A file list is passed as it was listed: the controller has just listed (and
 * fingerprinted) those files, and a stat of each before every run() was 7 % of W1's CPU (9 runs
 * interleaved: 1,242 -> 1,160 ms wall). A file that vanished since is named when run() fails
 * (`vanishedInputFile`). A table's parts are read.
 *
 * Synchronous when it can be (a file list; delimited and JSON-lines parts once their reader is
 * loaded): reads done with readSync need no timer, none could fire before they end, and a
 * promise, a timer and a race per mini-batch were ~10 µs of a 1 KB one (W1 lines, profiled).
 */
export function loadMiniBatch(descriptor: MiniBatchDescriptor, overheadTimeoutMs: number): LoadedMiniBatch | Promise<LoadedMiniBatch> {
  if (descriptor.kind === 'files') return { data: descriptor.files, problems: [] };
  const { parts, shape, partitionKeyValue } = descriptor;
  const reader = textReader;
  if (reader && parts.every((part) => part.format !== 'parquet')) {
    return tableOf(parts, parts.map((part) => readTextPart(reader, part)), shape, partitionKeyValue);
  }
  return withinTime(readTable(parts, shape, partitionKeyValue), overheadTimeoutMs);
}

/**
 * After run() failed on a file list: the first of its files that is no longer a readable file,
 * as the error to report (the script's own error about it, often ENOENT, is the symptom). A
 * synchronous stat per file, on the failure path only.
 */
export function vanishedInputFile(files: readonly string[]): Error | undefined {
  for (const file of files) {
    let info: Stats | undefined;
    try {
      info = statSync(file, { throwIfNoEntry: false });
    } catch (error) {
      return new Error(`input file ${file} cannot be read: ${(error as Error).message}`);
    }
    if (!info) return new Error(`input file ${file} cannot be read: it no longer exists`);
    if (!info.isFile()) return new Error(`input file ${file} is no longer a file`);
  }
  return undefined;
}

/*
 * The readers (Papa Parse, hyparquet) are loaded by the first table mini-batch that needs them:
 * a worker of a file-list job starts without them (W7, time to first task).
 */
type TextReader = typeof import('./delimited-reader.js');
let textReader: TextReader | undefined;
let textReaderLoading: Promise<TextReader> | undefined;
let parquet: Promise<typeof import('./parquet-reader.js')> | undefined;
const loadTextReader = () => (textReaderLoading ??= import('./delimited-reader.js').then((loaded) => (textReader = loaded)));
const parquetReader = () => (parquet ??= import('./parquet-reader.js'));

/**
 * Loads the reader of `format` ahead of the first mini-batch, in the time a worker waits for it
 * (the controller is still planning the input): ~10 ms of a first table mini-batch. A reader
 * that fails to load fails that mini-batch instead, as without this.
 */
export function preloadReader(format: TabularFormat): void {
  (format === 'parquet' ? parquetReader() : loadTextReader()).catch(() => {});
}

type ReadPart = { columns: string[]; rows: Record<string, unknown>[]; problems?: RowProblem[] };

function readTextPart(reader: TextReader, part: DelimitedPart | JsonLinesPart): ReadPart {
  return part.format === 'delimited' ? reader.readDelimitedPart(part) : reader.readJsonLinesPart(part);
}

/** The first table mini-batch of a worker (its reader is loaded then), and every Parquet one. */
async function readTable(parts: TablePart[], shape: TableShape, partitionKeyValue: Record<string, unknown> | undefined): Promise<LoadedMiniBatch> {
  const reads: ReadPart[] = [];
  for (const part of parts) {
    reads.push(part.format === 'parquet' ? await (await parquetReader()).readParquetPart(part) : readTextPart(await loadTextReader(), part));
  }
  return tableOf(parts, reads, shape, partitionKeyValue);
}

/** The rows of every part as one mini-batch, with the job's column selection applied. */
function tableOf(parts: TablePart[], reads: ReadPart[], shape: TableShape, partitionKeyValue: Record<string, unknown> | undefined): LoadedMiniBatch {
  const rows: Record<string, unknown>[] = [];
  const problems: RowProblem[] = [];
  const columns = new Map<string, true>();
  parts.forEach((part, index) => {
    const read = reads[index] as ReadPart;
    for (const column of read.columns) columns.set(column, true);
    if (read.problems) problems.push(...read.problems);
    if (part.pathColumns) {
      const extra = Object.entries(part.pathColumns);
      for (const [name] of extra) columns.set(name, true);
      for (const row of read.rows) for (const [name, value] of extra) row[name] = value;
    }
    for (const row of read.rows) rows.push(row);
  });
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
