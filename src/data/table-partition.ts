import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { InvalidInputError } from '../errors.js';
import { groupAdaptively, type AdaptiveSizing } from './adaptive-partition.js';
import type { MiniBatch, TablePart, TableShape } from './descriptors.js';
import { itemCount } from './descriptors.js';
import { parsePartitionFormat } from './mltable.js';
import { planDelimitedFile, splitDelimitedFile, splitJsonLinesFile, type DelimitedFilePlan } from './record-splitter.js';
import type { TabularSource } from './tabular-source.js';

/** The rows of one file, as parts no larger than the target (except single oversized records or row groups). */
type FileParts = AsyncGenerator<TablePart>;

interface FilePartsOptions {
  targetBytes: number;
  skipRows: number;
  maxRows: number;
}

/**
 * Reads only what it must of each file (a delimited file's header and sample, a Parquet
 * footer; delimited and JSON-lines files are scanned for record boundaries) to hand out parts.
 * `counter.rows` counts the data rows this file contributed, `counter.skipped` those skipped.
 */
export class TableFiles {
  readonly #source: TabularSource;
  readonly #pathFormat: ReturnType<typeof parsePartitionFormat> | undefined;
  #firstFilePlan: DelimitedFilePlan | undefined;

  constructor(source: TabularSource) {
    this.#source = source;
    this.#pathFormat = source.transformations.partitionFormat ? parsePartitionFormat(source.transformations.partitionFormat) : undefined;
  }

  get shape(): TableShape {
    const { dropColumns, keepColumns } = this.#source.transformations;
    return { ...(dropColumns ? { dropColumns } : {}), ...(keepColumns ? { keepColumns } : {}) };
  }

  /** Columns that come from a file's path: the partition format's, and `Path` when asked. */
  pathColumns(file: string): Record<string, string> | undefined {
    const relativePath = relative(this.#source.baseFolder, file);
    let columns: Record<string, string> | undefined;
    if (this.#pathFormat) {
      const extracted = this.#pathFormat.extract(relativePath);
      if (!extracted) {
        throw new InvalidInputError('E_JOB_INVALID', `${file}: its path ${relativePath} does not match the partition format "${this.#source.transformations.partitionFormat}"`);
      }
      columns = { ...extracted };
    }
    if (this.#source.transformations.includePathColumn) columns = { ...columns, Path: relativePath };
    return columns;
  }

  /** Keys a path format provides (partition_keys among them need no shuffle). */
  get pathKeys(): readonly string[] {
    return this.#pathFormat?.keys ?? [];
  }

  async *parts(file: string, index: number, options: FilePartsOptions, counter: { rows: number; skipped: number }): FileParts {
    const source = this.#source;
    const pathColumns = this.pathColumns(file);
    const withPath = <T extends TablePart>(part: T): T => (pathColumns ? { ...part, pathColumns } : part);
    switch (source.format) {
      case 'delimited': {
        const options_ = source.delimited;
        if (!options_) throw new Error('delimited source without options');
        const plan = await this.#planDelimited(file, index);
        const skipped = { count: 0 };
        const counting = { skipRows: options.skipRows, maxRows: options.maxRows, targetBytes: options.targetBytes, skipped };
        let rows = 0;
        for await (const part of splitDelimitedFile(file, plan, options_, counting)) {
          rows += part.rows;
          yield withPath(part);
        }
        counter.rows += rows;
        counter.skipped += skipped.count;
        return;
      }
      case 'json_lines': {
        let rows = 0;
        const skipped = { count: 0 };
        const encoding = source.delimited?.encoding ?? 'utf8';
        for await (const part of splitJsonLinesFile(file, encoding, { targetBytes: options.targetBytes, skipRows: options.skipRows, maxRows: options.maxRows, skipped })) {
          rows += part.rows;
          yield withPath(part);
        }
        counter.rows += rows;
        counter.skipped += skipped.count;
        return;
      }
      case 'parquet': {
        let skip = options.skipRows;
        let remaining = options.maxRows;
        // hyparquet is loaded for Parquet inputs only.
        const { splitParquet } = await import('./parquet-splitter.js');
        for await (const part of splitParquet(file, options.targetBytes)) {
          let rowStart = part.rowStart;
          let rowEnd = part.rowEnd;
          const drop = Math.min(skip, rowEnd - rowStart);
          skip -= drop;
          counter.skipped += drop;
          rowStart += drop;
          rowEnd = Math.min(rowEnd, rowStart + remaining);
          if (rowEnd <= rowStart) {
            if (remaining <= 0) return;
            continue;
          }
          remaining -= rowEnd - rowStart;
          counter.rows += rowEnd - rowStart;
          yield withPath({ ...part, rowStart, rowEnd });
        }
        return;
      }
    }
  }

  /** Header handling of read_delimited: each file's own, the first file's for all, or none. */
  async #planDelimited(file: string, index: number): Promise<DelimitedFilePlan> {
    const options = this.#source.delimited;
    if (!options) throw new Error('delimited source without options');
    switch (options.header) {
      case 'no_header':
        return planDelimitedFile(file, options, false);
      case 'from_first_file':
        if (index === 0 || !this.#firstFilePlan) {
          this.#firstFilePlan = await planDelimitedFile(file, options, true);
          return this.#firstFilePlan;
        }
        return planDelimitedFile(file, options, false, this.#firstFilePlan.columns.map((column) => column.name));
      default:
        return planDelimitedFile(file, options, true);
    }
  }
}

/** One file of a table, in order, and its parts (read them all before asking for the next file). */
interface TableFileParts {
  file: string;
  size: number;
  parts: AsyncGenerator<TablePart>;
}

/**
 * The table's files in order, each cut into parts of `targetFor(size)` bytes, with `skip` and
 * `take` applied across the whole table, exactly (the splitters count records). A file with no
 * data rows is not an error (an empty table is an empty job), but worth saying: it is often a
 * mistake.
 */
async function* filesInOrder(source: TabularSource, files: TableFiles, targetFor: (size: number) => number, onLog?: (level: 'INFO' | 'WARNING', message: string) => void): AsyncGenerator<TableFileParts> {
  let skip = source.transformations.skip;
  let remaining = source.transformations.take ?? Number.POSITIVE_INFINITY;
  for (const [index, file] of source.files.entries()) {
    if (remaining <= 0) break;
    const size = (await stat(file)).size;
    const counter = { rows: 0, skipped: 0 };
    const parts = async function* (): AsyncGenerator<TablePart> {
      yield* files.parts(file, index, { targetBytes: targetFor(size), skipRows: skip, maxRows: remaining }, counter);
      if (counter.rows === 0 && counter.skipped === 0) onLog?.('WARNING', `${file}: no data rows${source.format === 'delimited' && source.delimited?.header !== 'no_header' ? ' (only a header)' : ''}`);
      remaining -= counter.rows;
      skip -= counter.skipped;
    };
    yield { file, size, parts: parts() };
  }
}

/**
 * Splits a table into mini-batches of about `targetBytes`. A mini-batch never crosses a file
 * boundary: a large file is cut into ranges; small files are whole, and several small files
 * share a mini-batch while they fit under the size together.
 */
export async function* partitionTableBySize(source: TabularSource, targetBytes: number, onLog?: (level: 'INFO' | 'WARNING', message: string) => void): AsyncGenerator<MiniBatch> {
  const files = new TableFiles(source);
  const shape = files.shape;
  let id = 0;
  let group: TablePart[] = [];
  let groupBytes = 0;
  const flush = function* (): Generator<MiniBatch> {
    if (group.length === 0) return;
    const descriptor = { kind: 'table' as const, parts: group, shape };
    yield { id: id++, descriptor, items: itemCount(descriptor) };
    group = [];
    groupBytes = 0;
  };
  for await (const { size, parts } of filesInOrder(source, files, (size) => (size < targetBytes ? Number.POSITIVE_INFINITY : targetBytes), onLog)) {
    const small = size < targetBytes;
    if (!small || groupBytes + size > targetBytes) yield* flush();
    for await (const part of parts) {
      if (small) {
        group.push(part);
      } else {
        const descriptor = { kind: 'table' as const, parts: [part], shape };
        yield { id: id++, descriptor, items: itemCount(descriptor) };
      }
    }
    if (small) groupBytes += size;
  }
  yield* flush();
}

/** A piece of a table as `auto` counts it: a part of about the grain size, and its bytes. */
interface Grain {
  part: TablePart;
  bytes: number;
}

/** Beyond this many files the table's total size is not stat'ed up front (it only trims the last mini-batches). */
const MAX_FILES_TO_MEASURE = 10_000;

/**
 * `mini_batch_size: auto` on a table: the table is cut in grains of about `grainBytes`
 * (record-aligned byte ranges; whole row groups of Parquet), and each mini-batch takes as many
 * grains as the sizer asks bytes for. Adjacent grains of one file are merged into one part, so
 * a large mini-batch is still one range per file for the worker. Unlike fixed sizes, a
 * mini-batch may span files: the size is about time, not about file layout.
 */
export async function* partitionTableAdaptively(source: TabularSource, grainBytes: number, sizing: AdaptiveSizing, onLog?: (level: 'INFO' | 'WARNING', message: string) => void): AsyncGenerator<MiniBatch> {
  const files = new TableFiles(source);
  const shape = files.shape;
  let total: number | undefined;
  if (source.files.length <= MAX_FILES_TO_MEASURE) {
    total = 0;
    for (const file of source.files) total += (await stat(file)).size;
  }
  const make = (id: number, grains: Grain[]): MiniBatch => {
    const descriptor = { kind: 'table' as const, parts: mergeAdjacent(grains.map((grain) => grain.part)), shape };
    return { id, descriptor, items: itemCount(descriptor) };
  };
  yield* groupAdaptively(tableGrains(source, files, grainBytes, onLog), (grain) => grain.bytes, total, sizing, make);
}

async function* tableGrains(source: TabularSource, files: TableFiles, grainBytes: number, onLog?: (level: 'INFO' | 'WARNING', message: string) => void): AsyncGenerator<Grain> {
  for await (const { file, size, parts } of filesInOrder(source, files, () => grainBytes, onLog)) {
    // Parquet parts carry rows, not bytes: a row is counted at the file's average (row groups are whole anyway).
    let bytesPerRow = 0;
    if (source.format === 'parquet') {
      const rows = await (await import('./parquet-splitter.js')).parquetRowCount(file);
      bytesPerRow = rows > 0 ? size / rows : 0;
    }
    for await (const part of parts) {
      const bytes = part.format === 'parquet' ? Math.max(1, Math.round((part.rowEnd - part.rowStart) * bytesPerRow)) : part.end - part.start;
      yield { part, bytes };
    }
  }
}

/**
 * Consecutive parts of one file as one part: the same range a bigger target would have cut
 * (blank lines between two ranges belong to neither and are skipped by the reader either way).
 */
function mergeAdjacent(parts: TablePart[]): TablePart[] {
  const merged: TablePart[] = [];
  for (const part of parts) {
    const last = merged.at(-1);
    if (last && last.file === part.file && last.format === part.format) {
      if ((last.format === 'delimited' || last.format === 'json_lines') && part.format !== 'parquet' && last.end <= part.start) {
        merged[merged.length - 1] = { ...last, end: part.end, rows: last.rows + part.rows };
        continue;
      }
      if (last.format === 'parquet' && part.format === 'parquet' && last.rowEnd === part.rowStart) {
        merged[merged.length - 1] = { ...last, rowEnd: part.rowEnd };
        continue;
      }
    }
    merged.push(part);
  }
  return merged;
}
