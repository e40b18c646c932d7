import { parquetRead, parquetSchema, type FileMetaData, type ParquetParsers, type ParquetRow, type SchemaTree } from 'hyparquet';
import type { ParquetPart } from './descriptors.js';
import { openParquetFile } from './parquet-splitter.js';

/*
 * Runs in the worker: reads the rows of one part into plain objects whose values survive
 * JSON (rows may cross a process boundary to another language's bridge):
 * - INT64 (and UINT64) values are numbers when they are safe integers, else their decimal
 *   text. pandas would give int64; a JS number cannot hold every int64 and a bigint breaks
 *   JSON.stringify, so only the values that cannot be numbers become strings, losslessly.
 * - DATE is `YYYY-MM-DD`; timestamps (millis, micros, nanos, INT96) are ISO 8601 in UTC with as
 *   many fraction digits as the unit needs (`…T10:00:00.123456Z`), so micro- and nanoseconds
 *   are kept.
 * - strings (UTF8, and BYTE_ARRAY without annotation, as most writers mean text) are strings;
 *   other binary values (FIXED_LEN_BYTE_ARRAY without a logical type) are base64 text.
 * - nested columns (structs, lists, maps), JSON and VARIANT are plain objects and arrays with
 *   the same rules applied inside; nulls are null.
 */

export interface ParquetRows {
  /** The columns read, in the file's schema order. */
  columns: string[];
  rows: Record<string, unknown>[];
}

/** Footers of recently read files: consecutive parts of one file usually reach the same worker. */
const footers = new Map<string, { size: number; mtimeMs: number; metadata: FileMetaData }>();
const FOOTERS_KEPT = 8;

const parsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (value: bigint) => isoTimestamp(value, 1n, 0),
  timestampFromMicroseconds: (value: bigint) => isoTimestamp(value, 1_000n, 3),
  timestampFromNanoseconds: (value: bigint) => isoTimestamp(value, 1_000_000n, 6),
  dateFromDays: (days: number) => isoDate(days),
};

/**
 * Reads rows `[rowStart, rowEnd)` of the part's file; only the row groups that hold them are
 * read. `columns` restricts the columns read; the result keeps the schema's order.
 */
export async function readParquetPart(part: ParquetPart, columns?: string[]): Promise<ParquetRows> {
  const { file, rowStart, rowEnd } = part;
  const opened = await openParquetFile(file, footers.get(file));
  try {
    rememberFooter(file, opened);
    const { metadata } = opened;
    const fileRows = Number(metadata.num_rows);
    if (rowEnd > fileRows) throw new Error(`${file}: the file has ${fileRows} rows, fewer than when it was split (this part is rows ${rowStart}-${rowEnd})`);
    const schema = parquetSchema(metadata);
    const selected = selectColumns(schema, columns, file);
    const names = selected.map((node) => node.element.name);
    const count = Math.max(0, rowEnd - rowStart);
    // hyparquet returns no rows when no column is read; rows without columns still count.
    if (count === 0 || names.length === 0) return { columns: names, rows: Array.from({ length: count }, () => ({})) };

    let rows: ParquetRow[] = [];
    await parquetRead({
      file: opened.buffer,
      metadata,
      columns: names,
      rowStart,
      rowEnd,
      parsers,
      rowFormat: 'object',
      onComplete: (read) => {
        rows = read;
      },
    });
    if (rows.length !== count) throw new Error(`${file}: expected ${count} rows (rows ${rowStart}-${rowEnd}), read ${rows.length}`);
    for (const node of selected) {
      if (isPlainColumn(node)) continue;
      const name = node.element.name;
      for (const row of rows) row[name] = toPlain(row[name]);
    }
    return { columns: names, rows };
  } finally {
    await opened.handle.close();
  }
}

function rememberFooter(file: string, opened: { size: number; mtimeMs: number; metadata: FileMetaData }): void {
  footers.delete(file);
  footers.set(file, { size: opened.size, mtimeMs: opened.mtimeMs, metadata: opened.metadata });
  if (footers.size > FOOTERS_KEPT) footers.delete(footers.keys().next().value as string);
}

function selectColumns(schema: SchemaTree, columns: string[] | undefined, file: string): SchemaTree[] {
  if (!columns) return schema.children;
  const wanted = new Set(columns);
  const known = new Set(schema.children.map((node) => node.element.name));
  const missing = columns.filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new Error(`${file}: no column ${missing.map((name) => JSON.stringify(name)).join(', ')} (its columns: ${[...known].join(', ')})`);
  }
  return schema.children.filter((node) => wanted.has(node.element.name));
}

/** Columns whose values hyparquet (with the parsers above) already gives as JSON-safe scalars. */
function isPlainColumn(node: SchemaTree): boolean {
  const { type, converted_type: converted, logical_type: logical, repetition_type: repetition } = node.element;
  if (node.children.length > 0 || repetition === 'REPEATED') return false;
  if (logical && logical.type !== 'STRING' && logical.type !== 'DATE' && logical.type !== 'TIMESTAMP' && logical.type !== 'ENUM' && logical.type !== 'UUID') {
    // INTEGER of 8–32 bits are numbers; 64 bits are bigints
    return logical.type === 'INTEGER' && logical.bitWidth <= 32;
  }
  switch (type) {
    case 'BOOLEAN':
    case 'INT32':
    case 'FLOAT':
    case 'DOUBLE':
      return true;
    case 'INT64':
      return converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || logical?.type === 'TIMESTAMP';
    case 'INT96':
      return true;
    case 'BYTE_ARRAY':
      return converted === undefined || converted === 'UTF8' || converted === 'ENUM' || converted === 'DECIMAL';
    default:
      return false;
  }
}

/** Values hyparquet leaves as bigint, bytes, Date or typed arrays, made JSON-safe (deeply). */
function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'bigint':
      return bigintValue(value);
    case 'object':
      break;
    default:
      return value;
  }
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, toPlain);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) out[key] = toPlain(inner);
  return out;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function bigintValue(value: bigint): number | string {
  return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
}

/** `perMilli` units make a millisecond; `extraDigits` are the fraction digits past milliseconds. */
function isoTimestamp(raw: bigint | number, perMilli: bigint, extraDigits: number): string {
  const value = BigInt(raw);
  let millis = value / perMilli;
  let rest = value % perMilli;
  // bigint division truncates toward zero; before 1970 the remainder must count forward
  if (rest < 0n) {
    millis -= 1n;
    rest += perMilli;
  }
  const date = new Date(Number(millis));
  // Past ±275,000 years a Date cannot show it; the raw count is still exact.
  if (Number.isNaN(date.getTime())) return value.toString();
  const iso = date.toISOString();
  return rest === 0n ? iso : `${iso.slice(0, -1)}${rest.toString().padStart(extraDigits, '0')}Z`;
}

function isoDate(days: number): string {
  const date = new Date(days * 86_400_000);
  if (Number.isNaN(date.getTime())) return String(days);
  const iso = date.toISOString();
  return iso.slice(0, iso.indexOf('T'));
}
