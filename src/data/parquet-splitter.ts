import { open, type FileHandle } from 'node:fs/promises';
import type { AsyncBuffer, FileMetaData, RowGroup, SchemaTree } from 'hyparquet';
import { InvalidInputError } from '../errors.js';
import type { ParquetPart } from './descriptors.js';

/*
 * hyparquet is an ES module only: the CLI, a CommonJS script (scripts/bundle.mjs), can load it
 * with import() but not require(), so it is loaded when a Parquet file is first read.
 */
let loading: Promise<typeof import('hyparquet')> | undefined;
const hyparquet = () => (loading ??= import('hyparquet'));

/*
 * Runs in the controller, which must never load data: only a Parquet file's footer (the
 * metadata: schema, row groups and their sizes) is read, never a column chunk.
 */

const MAGIC = 'PAR1';
/** Leading magic, trailing footer length and trailing magic: the smallest possible file. */
const MIN_PARQUET_BYTES = 12;
const READABLE_CODECS = new Set(['UNCOMPRESSED', 'SNAPPY']);

/** A Parquet file opened for reading byte ranges, with its footer parsed. */
export interface OpenParquetFile {
  handle: FileHandle;
  buffer: AsyncBuffer;
  metadata: FileMetaData;
  size: number;
  mtimeMs: number;
}

export type ParquetColumnType = 'number' | 'boolean' | 'string' | 'other';

/**
 * Consecutive parts covering every row of the file in order, each made of whole row groups.
 * Row groups are added to a part until their compressed size reaches `targetBytes`, so a part
 * has at least one row group and a row group bigger than the target is a part of its own.
 *
 * Compressed size, because it is what the user sees on disk and what the CSV splitter measures
 * (bytes of the file), so one `mini_batch_size` means about the same amount of a file whatever its
 * format; it is also the I/O a worker does for the part. Uncompressed size would track worker
 * memory more closely, but can be 2–10× larger for dictionary-encoded columns and would make
 * "10MB" mean much less of a Parquet file than of a CSV file.
 */
export async function* splitParquet(file: string, targetBytes: number): AsyncGenerator<ParquetPart> {
  if (!(targetBytes > 0)) throw new RangeError(`splitParquet: targetBytes must be positive, got ${targetBytes}`);
  const metadata = await readParquetMetadata(file);
  let rowStart = 0;
  let rowEnd = 0;
  let bytes = 0;
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    // An empty row group has nothing to read; counting its bytes could close a part early.
    if (rows === 0) continue;
    rowEnd += rows;
    bytes += compressedBytes(group);
    if (bytes >= targetBytes) {
      yield { format: 'parquet', file, rowStart, rowEnd };
      rowStart = rowEnd;
      bytes = 0;
    }
  }
  if (rowEnd > rowStart) yield { format: 'parquet', file, rowStart, rowEnd };
}

export async function parquetRowCount(file: string): Promise<number> {
  return Number((await readParquetMetadata(file)).num_rows);
}

/**
 * Top-level columns in schema order, typed as `readParquetPart` returns their values: dates
 * and timestamps are ISO strings, so they are `string`; nested groups, lists, maps and JSON are
 * `other`.
 */
export async function parquetColumns(file: string): Promise<{ name: string; type: ParquetColumnType }[]> {
  const { parquetSchema } = await hyparquet();
  const schema = parquetSchema(await readParquetMetadata(file));
  return schema.children.map((child) => ({ name: child.element.name, type: columnType(child) }));
}

/** Reads and checks the footer only; the file is closed again. */
export async function readParquetMetadata(file: string): Promise<FileMetaData> {
  const opened = await openParquetFile(file);
  await opened.handle.close();
  return opened.metadata;
}

/**
 * Opens a file and reads its footer. The caller closes `handle`. `cached` is a footer parsed
 * before: it is used when the file's size and modification time are unchanged, which saves a
 * worker from parsing a large footer again for every part of the same file.
 */
export async function openParquetFile(file: string, cached?: { size: number; mtimeMs: number; metadata: FileMetaData }): Promise<OpenParquetFile> {
  const handle = await open(file, 'r');
  try {
    const { size, mtimeMs } = await handle.stat();
    const buffer = fileAsyncBuffer(handle, size, file);
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return { handle, buffer, metadata: cached.metadata, size, mtimeMs };
    const metadata = await readFooter(file, buffer, size);
    return { handle, buffer, metadata, size, mtimeMs };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readFooter(file: string, buffer: AsyncBuffer, size: number): Promise<FileMetaData> {
  const invalid = (reason: string, cause?: unknown) =>
    new InvalidInputError('E_JOB_INVALID', `${file}: not a valid Parquet file: ${reason}`, cause === undefined ? undefined : { cause });
  if (size === 0) throw invalid('the file is empty');
  const { parquetMetadataAsync, parquetSchema } = await hyparquet();
  if (size < MIN_PARQUET_BYTES) throw invalid(`the file has only ${size} bytes`);
  // hyparquet checks only the trailing magic; checking the leading one too catches a text file
  // that happens to end in "PAR1" and gives a clearer reason for the common cases.
  const head = Buffer.from(await buffer.slice(0, 4)).toString('latin1');
  if (head !== MAGIC) throw invalid('it does not start with "PAR1"');
  const tail = Buffer.from(await buffer.slice(size - 4, size)).toString('latin1');
  if (tail !== MAGIC) throw invalid('it does not end with "PAR1" (truncated, or not Parquet)');
  let metadata: FileMetaData;
  try {
    // An initial fetch of 8 bytes (footer length and magic) makes hyparquet read exactly the
    // footer next, instead of its default 512 KB tail, which for a small file is all its data.
    metadata = await parquetMetadataAsync(buffer, { initialFetchSize: 8 });
  } catch (error) {
    throw invalid(`its footer cannot be read (${(error as Error).message})`, error);
  }
  let rows = 0n;
  for (const group of metadata.row_groups) rows += BigInt(group.num_rows);
  if (rows !== BigInt(metadata.num_rows)) throw invalid(`its row groups hold ${rows} rows but its footer says ${metadata.num_rows}`);
  if (rows > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`it has ${rows} rows, more than can be counted exactly`);
  if (parquetSchema(metadata).children.length === 0) throw invalid('it has no columns');
  // hyparquet decodes only these without extra decompressors; checking here fails the job in the
  // controller with one clear message, instead of every mini-batch failing in the workers.
  const codecs = new Set<string>();
  for (const group of metadata.row_groups) for (const column of group.columns) if (column.meta_data) codecs.add(column.meta_data.codec);
  const unsupported = [...codecs].filter((codec) => !READABLE_CODECS.has(codec));
  if (unsupported.length > 0) {
    throw new InvalidInputError('E_JOB_INVALID', `${file}: compressed with ${unsupported.join(', ')}, which minibatch cannot read yet (it reads SNAPPY and uncompressed Parquet files)`);
  }
  return metadata;
}

/** Reads byte ranges of an open file on demand, as hyparquet's AsyncBuffer. */
function fileAsyncBuffer(handle: FileHandle, size: number, file: string): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end = size): Promise<ArrayBuffer> {
      const length = Math.max(0, end - start);
      // Its own ArrayBuffer, not one from Buffer's shared pool: hyparquet keeps views on it.
      const bytes = new Uint8Array(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(bytes, read, length - read, start + read);
        if (bytesRead === 0) throw new Error(`${file}: the file is shorter than when it was opened (reading bytes ${start}-${end})`);
        read += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

function compressedBytes(group: RowGroup): number {
  if (group.total_compressed_size !== undefined) return Number(group.total_compressed_size);
  // total_compressed_size is optional in the format (older writers leave it out).
  let bytes = 0;
  for (const column of group.columns) bytes += Number(column.meta_data?.total_compressed_size ?? 0);
  return bytes;
}

function columnType(node: SchemaTree): ParquetColumnType {
  const { type, converted_type: converted, logical_type: logical } = node.element;
  if (node.children.length > 0 || node.element.repetition_type === 'REPEATED') return 'other';
  if (converted === 'JSON' || converted === 'BSON' || converted === 'INTERVAL') return 'other';
  if (logical && ['JSON', 'BSON', 'VARIANT', 'GEOMETRY', 'GEOGRAPHY', 'INTERVAL'].includes(logical.type)) return 'other';
  if (converted === 'DATE' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || type === 'INT96') return 'string';
  if (logical?.type === 'DATE' || logical?.type === 'TIMESTAMP') return 'string';
  switch (type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
    case 'FLOAT':
    case 'DOUBLE':
      return 'number';
    case 'BYTE_ARRAY':
      return converted === 'DECIMAL' ? 'number' : 'string';
    case 'FIXED_LEN_BYTE_ARRAY':
      return converted === 'DECIMAL' || logical?.type === 'DECIMAL' || logical?.type === 'FLOAT16' ? 'number' : 'string';
    default:
      return 'other';
  }
}
