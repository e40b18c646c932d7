import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import Papa from 'papaparse';
import type { ColumnSpec, DelimitedPart, JsonLinesPart } from './descriptors.js';

/** A row the reader could not turn into a record: it counts as a failed item, the rest go on. */
export interface RowProblem {
  file: string;
  line: number;
  message: string;
}

export interface ReadRows {
  columns: string[];
  rows: Record<string, unknown>[];
  problems: RowProblem[];
}

/**
 * Reads exactly the bytes of a part: the worker never reads outside its range. Synchronous on
 * purpose, as the file checks in load-mini-batch.ts: three thread-pool round trips (open, read,
 * close) per mini-batch cost a worker more than the read itself (measured: ~140 µs a mini-batch
 * of 1 KB on W1's lines, 40 % of the worker's time); a read that hangs is still ended by the
 * controller's kill at the run timeout.
 */
export async function readRange(file: string, start: number, end: number): Promise<Buffer> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(end - start);
    let read = 0;
    while (read < buffer.length) {
      const bytesRead = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (bytesRead === 0) throw new Error(`${file}: the file is shorter than when it was split (expected bytes ${start}-${end})`);
      read += bytesRead;
    }
    return buffer;
  } finally {
    closeSync(fd);
  }
}

/**
 * Decodes a range. With a UTF-8 file, bytes that are not UTF-8 fail the read with the line
 * they are on, instead of turning silently into U+FFFD.
 */
export function decodeRange(bytes: Buffer, encoding: BufferEncoding, file: string, firstLine: number): string {
  if (encoding !== 'utf8' && encoding !== 'utf-8') return bytes.toString(encoding);
  // Checked, then decoded without checking: several times faster than a fatal TextDecoder on a 10 MB range.
  if (isUtf8(bytes)) {
    const text = bytes.toString('utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a BOM is no data
  }
  // Not UTF-8: found line by line, to name the line.
  let line = firstLine;
  for (let start = 0; start < bytes.length; line++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline === -1 ? bytes.length : newline + 1;
    if (!isUtf8(bytes.subarray(start, end))) throw new Error(`${file}:${line}: bytes that are not valid UTF-8 (encoding: utf8); set read_delimited.encoding to the file's encoding`);
    start = end;
  }
  throw new Error(`${file}: bytes that are not valid UTF-8 (encoding: utf8)`);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

type Converter = (value: string) => unknown;

function converterFor(column: ColumnSpec, emptyAsString: boolean): Converter {
  const empty = emptyAsString && column.type === 'string' ? '' : null;
  switch (column.type) {
    case 'number':
      // A value that is not a number is kept as text rather than lost (pandas would make the column object).
      return (value) => (value === '' ? null : NUMBER.test(value) ? Number(value) : value);
    case 'boolean':
      return (value) => {
        if (value === '') return null;
        const lowered = value.toLowerCase();
        return lowered === 'true' ? true : lowered === 'false' ? false : value;
      };
    default:
      return (value) => (value === '' ? empty : value);
  }
}

/** What a Papa Parse quote error means for the user, by its code. */
const QUOTE_PROBLEMS: Record<string, string> = {
  MissingQuotes: 'a quoted field that starts on this line is never closed: it runs to the end of the file, so the lines after it cannot be read as rows (close the quote, or write a literal quote as "")',
  InvalidQuotes: 'a quoted field is malformed: its closing quote is followed by other text, so the rows after it cannot be told apart (write a literal quote as "")',
};

/**
 * Parses a delimited part into typed row objects. A row with the wrong number of fields, or
 * with a quote that is never closed or is malformed, is reported with its file and line and
 * left out (a failed item); the job goes on.
 */
export async function readDelimitedPart(part: DelimitedPart): Promise<ReadRows> {
  const bytes = await readRange(part.file, part.start, part.end);
  const text = decodeRange(bytes, part.options.encoding, part.file, part.line);
  // Empty lines are skipped below, not by Papa Parse: its error rows then index `records`, and line numbers stay right.
  const parsed = Papa.parse<string[]>(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, { delimiter: part.options.delimiter, skipEmptyLines: false });
  const quoteErrors = new Map<number, string>();
  for (const error of parsed.errors) {
    if (error.type === 'Quotes' && error.row !== undefined && !quoteErrors.has(error.row)) quoteErrors.set(error.row, error.code);
  }
  const names = part.columns.map((column) => column.name);
  const converters = part.columns.map((column) => converterFor(column, part.options.emptyAsString));
  const rows: Record<string, unknown>[] = [];
  const problems: RowProblem[] = [];
  const records = parsed.data;
  let quoteLine: number | undefined;
  for (let index = 0; index < records.length; index++) {
    const record = records[index] as string[];
    if (record.length === 1 && record[0] === '') continue; // an empty line is no record
    const quoteError = quoteErrors.get(index);
    if (quoteError !== undefined) {
      const line = lineOfRecord(records, index, part.line);
      quoteLine ??= line;
      problems.push({ file: part.file, line, message: QUOTE_PROBLEMS[quoteError] ?? `malformed quotes (${quoteError})` });
      continue;
    }
    if (record.length !== names.length) {
      problems.push({
        file: part.file,
        line: lineOfRecord(records, index, part.line),
        message: `expected ${names.length} fields, got ${record.length}`,
      });
      continue;
    }
    const row: Record<string, unknown> = {};
    for (let column = 0; column < names.length; column++) row[names[column] as string] = (converters[column] as Converter)(record[column] as string);
    rows.push(row);
  }
  // A malformed quote can swallow records the splitter counted apart: each is a failed item too.
  for (let missing = part.rows - rows.length - problems.length; quoteLine !== undefined && missing > 0; missing--) {
    problems.push({ file: part.file, line: quoteLine, message: 'a row read into the malformed quoted field of this line' });
  }
  return { columns: names, rows, problems };
}

/** The line a record starts on: lines before it, counting newlines inside quoted fields. Only computed for bad rows. */
function lineOfRecord(records: string[][], index: number, firstLine: number): number {
  let line = firstLine;
  for (let i = 0; i < index; i++) {
    line++;
    for (const field of records[i] as string[]) {
      for (let at = field.indexOf('\n'); at !== -1; at = field.indexOf('\n', at + 1)) line++;
    }
  }
  return line;
}

/** Parses a JSON-lines part: one object per line; a line that is not a JSON object is a failed item. */
export async function readJsonLinesPart(part: JsonLinesPart): Promise<ReadRows> {
  const bytes = await readRange(part.file, part.start, part.end);
  const text = decodeRange(bytes, part.encoding, part.file, part.line);
  const rows: Record<string, unknown>[] = [];
  const problems: RowProblem[] = [];
  const columns = new Map<string, true>();
  let line = part.line;
  for (const raw of text.split('\n')) {
    const content = raw.trim();
    if (content.length > 0) {
      try {
        const value = JSON.parse(content) as unknown;
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          problems.push({ file: part.file, line, message: 'expected a JSON object on the line' });
        } else {
          for (const key of Object.keys(value)) columns.set(key, true);
          rows.push(value as Record<string, unknown>);
        }
      } catch (error) {
        problems.push({ file: part.file, line, message: `not valid JSON: ${(error as Error).message}` });
      }
    }
    line++;
  }
  return { columns: [...columns.keys()], rows, problems };
}
