import { statSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';
import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import { listFiles } from './file-list.js';
import { inferTabularFormat, nodeEncoding, readMLTable, tabularSourceFromHint } from './mltable.js';
import type { DelimitedOptions, ResolvedDataSource } from './tabular-source.js';

/** How the split input will be read and cut, decided once before the run starts. */
export interface InputPlan {
  source: ResolvedDataSource;
  /** Files per mini-batch (file list) or approximate bytes (tabular). */
  split:
    | { kind: 'files'; count: number }
    | { kind: 'bytes'; bytes: number }
    | { kind: 'partitions'; keys: readonly string[] }
    /** `mini_batch_size: auto`: sized as the run goes, in files or bytes; a table is cut in grains of `grainBytes`. */
    | { kind: 'auto'; unit: 'files' | 'bytes'; targetSeconds: number; grainBytes: number };
  /** One line for logs and `validate`: what is split and how. */
  summary: string;
}

/**
 * Decides what the split input is: an MLTable (a table, or a file list when it has no read
 * transformation), a bare file or folder read as a table (a read_* hint, or a byte-size
 * mini_batch_size / partition_keys on a recognisable table file), or a plain file list.
 * Invalid combinations are input errors that name the field.
 */
export async function planInput(job: ResolvedParallelJob): Promise<InputPlan> {
  const input = job.inputData;
  const where = `${job.locate(['inputs', input.name])}: inputs.${input.name}`;
  let source: ResolvedDataSource;
  if (input.type === 'mltable') {
    source = await readMLTable(input.path);
  } else if (input.readHint) {
    const hint = input.readHint;
    source = await tabularSourceFromHint({ type: input.type, path: input.path }, hint.format, delimitedFromHint(hint, where));
    source.transformations.includePathColumn = hint.includePathColumn ?? false;
  } else if (job.miniBatchSize.files === undefined || job.partitionKeys) {
    const format = await guessFormat(input.type, input.path);
    if (!format) {
      const field = job.partitionKeys ? 'partition_keys' : 'mini_batch_size';
      const why = job.partitionKeys ? 'partition_keys split a table' : `expected a file count for a file input like "10", got "${job.miniBatchSize.written}" (a byte size splits a table)`;
      throw new InvalidInputError(
        'E_JOB_INVALID',
        `${job.locate([field])}: ${field}: ${why}, but ${input.path} is not a table minibatch recognises (.csv, .tsv, .jsonl, .parquet); add read_delimited / read_json_lines / read_parquet to the input, use an mltable input, or give mini_batch_size as a file count`,
      );
    }
    source = await tabularSourceFromHint({ type: input.type, path: input.path }, format);
  } else {
    source = { kind: 'files', files: [], baseFolder: input.path };
  }

  if (source.kind === 'files') {
    if (job.partitionKeys) {
      throw new InvalidInputError('E_JOB_INVALID', `${job.locate(['partition_keys'])}: partition_keys: the input ${input.path} is a file list; partition_keys need a table (an MLTable with a read transformation)`);
    }
    if (job.miniBatchSize.files === undefined) {
      throw new InvalidInputError(
        'E_JOB_INVALID',
        `${job.locate(['mini_batch_size'])}: mini_batch_size: expected a file count for a file input like "10", got "${job.miniBatchSize.written}" (a byte size applies to tabular input)`,
      );
    }
    const count = job.miniBatchSize.files;
    const auto = job.miniBatchSize.auto;
    if (auto) {
      return { source, split: { kind: 'auto', unit: 'files', targetSeconds: auto.targetSeconds, grainBytes: job.miniBatchSize.bytes }, summary: `file list ${input.path}, mini-batch size ${describeAuto(auto.targetSeconds)}, starting at ${count} file${count === 1 ? '' : 's'}` };
    }
    return { source, split: { kind: 'files', count }, summary: `file list ${input.path}, ${count} files per mini-batch` };
  }
  if (job.partitionKeys) {
    return { source, split: { kind: 'partitions', keys: job.partitionKeys }, summary: `table ${input.path} (${source.format}, ${source.files.length} files), one mini-batch per ${job.partitionKeys.join(', ')}` };
  }
  const auto = job.miniBatchSize.auto;
  if (auto) {
    const grainBytes = job.miniBatchSize.bytes;
    return {
      source,
      split: { kind: 'auto', unit: 'bytes', targetSeconds: auto.targetSeconds, grainBytes },
      summary: `table ${input.path} (${source.format}, ${source.files.length} files), mini-batch size ${describeAuto(auto.targetSeconds)}, starting at ~${formatBytes(grainBytes)}${source.format === 'parquet' ? ' (whole row groups)' : ''}`,
    };
  }
  const bytes = job.miniBatchSize.bytes;
  return { source, split: { kind: 'bytes', bytes }, summary: `table ${input.path} (${source.format}, ${source.files.length} files), ~${formatBytes(bytes)} per mini-batch` };
}

function delimitedFromHint(hint: NonNullable<ResolvedParallelJob['inputData']['readHint']>, where: string): Partial<DelimitedOptions> | undefined {
  if (hint.format !== 'delimited') return undefined;
  const options: Partial<DelimitedOptions> = {};
  if (hint.delimiter !== undefined) options.delimiter = hint.delimiter;
  if (hint.header !== undefined) options.header = hint.header;
  if (hint.emptyAsString !== undefined) options.emptyAsString = hint.emptyAsString;
  if (hint.encoding !== undefined) {
    const encoding = nodeEncoding(hint.encoding);
    if (!encoding) throw new InvalidInputError('E_JOB_INVALID', `${where}.read_delimited.encoding: expected utf8, ascii, latin1, iso88591, windows1252 or utf16, got "${hint.encoding}"`);
    options.encoding = encoding;
  }
  return options;
}

/** The table format of a file, or of every file of a folder when they agree. */
async function guessFormat(type: string, path: string): Promise<'delimited' | 'json_lines' | 'parquet' | undefined> {
  if (type === 'uri_file' || statSync(path).isFile()) return inferTabularFormat(path);
  let format: ReturnType<typeof inferTabularFormat>;
  for await (const file of listFiles(path)) {
    const next = inferTabularFormat(file);
    if (next === undefined || (format !== undefined && next !== format)) return undefined;
    format = next;
  }
  return format;
}

/** `auto (target 10 s)`: how an auto mini-batch size is shown wherever a size is printed. */
export function describeAuto(targetSeconds: number): string {
  return `auto (target ${targetSeconds} s)`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GB`;
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
