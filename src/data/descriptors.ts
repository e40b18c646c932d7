import type { DelimitedOptions } from './tabular-source.js';

/*
 * What the controller hands a worker: a small description of a mini-batch's data, never the
 * data itself. The worker reads what the descriptor names (`load-mini-batch.ts`).
 */

/** A column as the reader will type it: inferred from a sample of the file by the controller. */
export interface ColumnSpec {
  name: string;
  type: 'number' | 'boolean' | 'string';
}

/** Rows of a delimited file from byte `start` (a record boundary) to `end` (exclusive, one too). */
export interface DelimitedPart {
  format: 'delimited';
  file: string;
  start: number;
  end: number;
  /** 1-based line number of the first byte of the range, for error messages. */
  line: number;
  /** Records in the range (data rows, header excluded). */
  rows: number;
  columns: ColumnSpec[];
  options: DelimitedOptions;
}

/** Lines of a JSON-lines file from byte `start` to `end`, both at line starts. */
export interface JsonLinesPart {
  format: 'json_lines';
  file: string;
  start: number;
  end: number;
  line: number;
  rows: number;
  encoding: BufferEncoding;
}

/** Rows `[rowStart, rowEnd)` of a Parquet file (aligned to whole row groups by the splitter). */
export interface ParquetPart {
  format: 'parquet';
  file: string;
  rowStart: number;
  rowEnd: number;
}

export type TablePart = (DelimitedPart | JsonLinesPart | ParquetPart) & {
  /** Columns that come from the file's path (partition format, `Path`), the same for every row. */
  pathColumns?: Record<string, string>;
};

/** How every tabular mini-batch of a job is shaped after reading (the same for all parts). */
export interface TableShape {
  dropColumns?: string[];
  keepColumns?: string[];
}

export type MiniBatchDescriptor =
  | { kind: 'files'; files: string[] }
  | {
      kind: 'table';
      parts: TablePart[];
      shape: TableShape;
      /** Set when the input is split by partition_keys: key → value of this mini-batch. */
      partitionKeyValue?: Record<string, unknown>;
    };

/** A mini-batch as scheduled: its id is its position in the input, which fixes output order. */
export interface MiniBatch {
  readonly id: number;
  readonly descriptor: MiniBatchDescriptor;
  /** Items in the mini-batch (files, rows), for failed-item accounting. */
  readonly items: number;
}

/**
 * Items of a mini-batch, the unit of failed-item accounting: files, or rows. A partition
 * (partition_keys) is one item: its unit of work is the partition (one model per key), so a
 * script returning one result for it has succeeded.
 */
export function itemCount(descriptor: MiniBatchDescriptor): number {
  if (descriptor.kind === 'files') return descriptor.files.length;
  if (descriptor.partitionKeyValue) return 1;
  let rows = 0;
  for (const part of descriptor.parts) rows += part.format === 'parquet' ? part.rowEnd - part.rowStart : part.rows;
  return rows;
}

/**
 * Where an auto-sized mini-batch lies in the input: `count` grains from grain `first` (files of
 * a file list, ~64 KB pieces or row groups of a table, in partition order). Auto sizes depend on
 * timings, so a resumed run cannot cut the input again the same way: these are journaled
 * before the mini-batch runs and replayed on resume.
 */
export interface MiniBatchBoundary {
  id: number;
  first: number;
  count: number;
  /** Files, or bytes of a table: what the size was measured in. */
  amount: number;
}
