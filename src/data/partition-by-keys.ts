import { mkdirSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';
import { childModule, runOneShotChild } from '../worker/one-shot-child.js';
import type { MiniBatch, TablePart } from './descriptors.js';
import { itemCount } from './descriptors.js';
import type { ShuffleRequest, ShuffleResult } from './duckdb-shuffle-main.js';
import { planDelimitedFile, splitDelimitedFile } from './record-splitter.js';
import { TableFiles } from './table-partition.js';
import type { DelimitedOptions, TabularSource } from './tabular-source.js';

export interface PartitionOptions {
  /** Where a shuffle writes its partitioned Parquet files (inside the run directory). */
  workDir: string;
  onLog?: (level: 'INFO' | 'WARNING', message: string) => void;
  /** The shuffle's output: Parquet (typed), or CSV for workers that cannot read Parquet. */
  shuffleFormat?: 'parquet' | 'csv';
  /** Rows the shuffle could not read: failed items of no particular mini-batch. */
  onUnreadableRows?: (count: number, message: string) => void;
}

/**
 * One mini-batch per distinct value of the partition keys. When every key comes from the
 * files' paths (the partition format), files are grouped as they are: nothing is read but
 * what counting needs. Otherwise the table is shuffled once by DuckDB, out of core, into one
 * Parquet folder per key value, in a child process so the controller's memory stays flat.
 */
export async function* partitionTableByKeys(source: TabularSource, keys: readonly string[], options: PartitionOptions): AsyncGenerator<MiniBatch> {
  if (source.transformations.skip > 0 || source.transformations.take !== undefined) {
    throw new InvalidInputError('E_JOB_INVALID', 'partition_keys cannot be combined with the MLTable skip or take transformations (which rows they mean depends on the order of a whole table)');
  }
  const files = new TableFiles(source);
  if (keys.every((key) => files.pathKeys.includes(key))) {
    yield* groupFilesByPath(source, files, keys);
    return;
  }
  yield* shuffle(source, files, keys, options);
}

async function* groupFilesByPath(source: TabularSource, files: TableFiles, keys: readonly string[]): AsyncGenerator<MiniBatch> {
  const groups = new Map<string, { value: Record<string, string>; files: { file: string; index: number }[] }>();
  for (const [index, file] of source.files.entries()) {
    const columns = files.pathColumns(file) ?? {};
    const value = Object.fromEntries(keys.map((key) => [key, columns[key] ?? '']));
    const id = JSON.stringify(keys.map((key) => value[key]));
    const group = groups.get(id) ?? { value, files: [] };
    group.files.push({ file, index });
    groups.set(id, group);
  }
  let id = 0;
  for (const group of groups.values()) {
    const parts: TablePart[] = [];
    for (const { file, index } of group.files) {
      for await (const part of files.parts(file, index, { targetBytes: Number.POSITIVE_INFINITY, skipRows: 0, maxRows: Number.POSITIVE_INFINITY }, { rows: 0, skipped: 0 })) parts.push(part);
    }
    const descriptor = { kind: 'table' as const, parts, shape: files.shape, partitionKeyValue: group.value };
    yield { id: id++, descriptor, items: itemCount(descriptor) };
  }
}

const SHUFFLE_MAIN = childModule('duckdb-shuffle-main', import.meta.url);

async function* shuffle(source: TabularSource, files: TableFiles, keys: readonly string[], options: PartitionOptions): AsyncGenerator<MiniBatch> {
  mkdirSync(options.workDir, { recursive: true });
  const request: ShuffleRequest = {
    format: source.format,
    files: source.files,
    delimited: source.delimited,
    pathColumns: source.files.map((file) => files.pathColumns(file) ?? {}),
    keys: [...keys],
    outDir: options.workDir,
    outputFormat: options.shuffleFormat ?? 'parquet',
  };
  options.onLog?.('INFO', `partition_keys ${keys.join(', ')}: shuffling ${source.files.length} file(s) with DuckDB into ${options.workDir}`);
  const result = await runShuffle(request);
  if ('error' in result) throw new InvalidInputError('E_JOB_INVALID', result.error);
  if (result.rejected.length > 0) {
    const first = result.rejected.slice(0, 5).map((rejected) => `${rejected.file}:${rejected.line}: ${rejected.message.split('\n')[0]}`);
    options.onUnreadableRows?.(result.rejected.length, `${result.rejected.length} row(s) could not be read while partitioning: ${first.join('; ')}`);
  }
  options.onLog?.('INFO', `partition_keys: ${result.partitions.length} distinct values, ${result.rows} rows`);
  let id = 0;
  const csvOptions: DelimitedOptions = { delimiter: ',', encoding: 'utf8', header: 'all_files_same_headers', emptyAsString: false };
  for (const partition of result.partitions) {
    const parts: TablePart[] = [];
    for (const file of partition.files) {
      if (request.outputFormat === 'parquet') {
        parts.push({ format: 'parquet', file: file.path, rowStart: 0, rowEnd: file.rows });
        continue;
      }
      const plan = await planDelimitedFile(file.path, csvOptions, true);
      for await (const part of splitDelimitedFile(file.path, plan, csvOptions, { targetBytes: Number.POSITIVE_INFINITY })) parts.push(part);
    }
    const descriptor = { kind: 'table' as const, parts, shape: files.shape, partitionKeyValue: partition.value };
    yield { id: id++, descriptor, items: itemCount(descriptor) };
  }
}

function runShuffle(request: ShuffleRequest): Promise<ShuffleResult> {
  return runOneShotChild<ShuffleResult>(SHUFFLE_MAIN, request, 'DuckDB partitioning');
}
