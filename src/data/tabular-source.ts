/*
 * What a tabular input is, once its MLTable (or a bare file with a read hint) has been
 * resolved: which files, how to read them, and the table-level transformations. Produced by
 * `mltable.ts` in the controller; the splitters turn it into descriptors.
 */

export type TabularFormat = 'delimited' | 'json_lines' | 'parquet';

/** `read_delimited.header` in the reference's words (the MLTable and the job's read hint share them). */
export const HEADER_MODES = ['all_files_same_headers', 'no_header', 'from_first_file'] as const;
export type HeaderMode = (typeof HEADER_MODES)[number];

export interface DelimitedOptions {
  delimiter: string;
  /** Node's name for the encoding (`utf8`, `latin1`, `ascii`, `utf16le`). */
  encoding: BufferEncoding;
  header: HeaderMode;
  /** Empty fields stay `""` instead of becoming null. */
  emptyAsString: boolean;
}

export interface TableTransformations {
  /** Adds a `Path` column with each row's source file. */
  includePathColumn: boolean;
  /** `{Store}/{Brand}/{file_name}.{extension}`: columns taken from each file's path under `baseFolder`. */
  partitionFormat: string | undefined;
  dropColumns: string[] | undefined;
  keepColumns: string[] | undefined;
  /** Rows skipped at the start of the whole table (after reading, in file order). */
  skip: number;
  /** At most this many rows in the whole table; undefined = all. */
  take: number | undefined;
}

export interface TabularSource {
  kind: 'tabular';
  format: TabularFormat;
  /** Absolute paths in the table's order (the order of `paths`, each folder/pattern sorted). */
  files: string[];
  /** The folder `paths` are relative to (the MLTable's folder): partition formats and `Path` are relative to it. */
  baseFolder: string;
  delimited: DelimitedOptions | undefined;
  transformations: TableTransformations;
}

/** An MLTable with `paths` and no read transformation is a file list. */
export interface FileListSource {
  kind: 'files';
  files: string[];
  baseFolder: string;
}

export type ResolvedDataSource = TabularSource | FileListSource;
