import { open } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import type { ColumnSpec, DelimitedPart, JsonLinesPart } from './descriptors.js';
import { papaParse } from './papa-parse.js';
import type { DelimitedOptions } from './tabular-source.js';

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const CHUNK_BYTES = 1 << 20;
/** Bytes of records sampled at the start of a file to infer column types. */
const SAMPLE_BYTES = 64 * 1024;

export interface DelimitedFilePlan {
  /** Column names: from the header, or Column1… without one, or given (from_first_file). */
  columns: ColumnSpec[];
  /** Whether the file's first record is a header (skipped as data). */
  hasHeader: boolean;
}

export interface SplitOptions {
  /** Approximate bytes per part; a part always ends at a record boundary. */
  targetBytes: number;
  /** Data records to skip at the start of this file (the table's `skip`, what is left of it). */
  skipRows?: number;
  /** At most this many data records from this file (the table's `take`, what is left of it). */
  maxRows?: number;
  /** Incremented for every record skipped, so skipping can go on in the next file. */
  skipped?: { count: number };
}

/**
 * Reads the header (if any) and a sample of the first records, to name and type the columns.
 * Only the start of the file is read.
 */
export async function planDelimitedFile(file: string, options: DelimitedOptions, hasHeader: boolean, givenColumns?: string[]): Promise<DelimitedFilePlan> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    const text = decodeSample(buffer.subarray(0, bytesRead), options.encoding);
    // Only whole records: drop what follows the last newline unless the sample is the whole file.
    const complete = bytesRead === SAMPLE_BYTES ? text.slice(0, Math.max(0, text.lastIndexOf('\n'))) : text;
    const parsed = papaParse().parse<string[]>(complete, { delimiter: options.delimiter, skipEmptyLines: true });
    const records = parsed.data;
    let names: string[];
    if (hasHeader) {
      const header = records.shift();
      if (!header) throw new InvalidInputError('E_JOB_INVALID', `${file}: expected a header row, but the file is empty`);
      names = header.map((name, index) => name.trim() || `Column${index + 1}`);
      // Rows are objects keyed by column name: a second "a" would silently overwrite the first.
      const seen = new Map<string, number>();
      names.forEach((name, index) => {
        const first = seen.get(name);
        if (first !== undefined) {
          throw new InvalidInputError('E_JOB_INVALID', `${file}: the header names the column "${name}" twice (columns ${first + 1} and ${index + 1}); expected unique column names: rename one`);
        }
        seen.set(name, index);
      });
    } else if (givenColumns) {
      names = givenColumns;
    } else {
      const width = records.reduce((max, record) => Math.max(max, record.length), 0);
      names = Array.from({ length: width }, (_, index) => `Column${index + 1}`);
    }
    // Ragged records say nothing reliable about types (they will be reported as unreadable).
    const regular = records.filter((record) => record.length === names.length);
    return { columns: names.map((name, index) => ({ name, type: inferType(regular, index) })), hasHeader };
  } finally {
    await handle.close();
  }
}

function decodeSample(bytes: Buffer, encoding: BufferEncoding): string {
  const text = bytes.toString(encoding);
  // A sample may end inside a multi-byte character: that one character is dropped.
  return text.endsWith('\uFFFD') ? text.slice(0, -1) : text.replace(/^\uFEFF/, '');
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** number if every non-empty sampled value is a number, boolean if every one is true/false, else string. */
function inferType(records: string[][], column: number): ColumnSpec['type'] {
  let sawValue = false;
  let allNumbers = true;
  let allBooleans = true;
  for (const record of records) {
    const value = record[column];
    if (value === undefined || value === '') continue;
    sawValue = true;
    if (allNumbers && !NUMBER.test(value.trim())) allNumbers = false;
    if (allBooleans && !/^(true|false)$/i.test(value.trim())) allBooleans = false;
    if (!allNumbers && !allBooleans) return 'string';
  }
  if (!sawValue) return 'string';
  return allNumbers ? 'number' : allBooleans ? 'boolean' : 'string';
}

/** Whether bytes [from, to) hold anything but carriage returns (a record's content, outside quotes). */
function hasContent(chunk: Buffer, from: number, to: number): boolean {
  for (let at = from; at < to; at++) if (chunk[at] !== CARRIAGE_RETURN) return true;
  return false;
}

/** A byte range of whole records of one file. */
export interface RecordRange {
  start: number;
  end: number;
  /** 1-based line number at `start`. */
  line: number;
  /** Records in the range (empty lines do not count). */
  rows: number;
}

export interface RecordScanOptions extends SplitOptions {
  /** Whether a newline inside double quotes belongs to the field (delimited) or ends the record (JSON lines). */
  quotes: boolean;
  /** Whether the first record is a header, not data. */
  hasHeader: boolean;
}

/**
 * Streams through a file once, without parsing fields, to cut it into ranges that end on
 * record boundaries: a newline, outside double quotes for delimited files (RFC 4180 quotes are
 * doubled, so quote parity is all the state there is). Memory stays flat whatever the file's
 * size, and counting records gives every range its exact row count and first line number.
 */
export async function* splitRecords(file: string, scan: RecordScanOptions): AsyncGenerator<RecordRange> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0; // file offset of buffer[0]
    let inQuotes = false;
    let line = 1; // line number at the current byte
    let recordStart = 0; // offset where the current record starts
    let recordStartLine = 1;
    let recordHasContent = false;
    let recordQuotes = 0;
    let seenHeader = !scan.hasHeader;
    let toSkip = scan.skipRows ?? 0;
    let remaining = scan.maxRows ?? Infinity;
    let partStart = -1;
    let partLine = 1;
    let partRows = 0;
    const quoteByte = scan.quotes ? QUOTE : -1;

    // Called at the end of every record: `end` is the offset just after its newline.
    const endRecord = (end: number): RecordRange | 'stop' | undefined => {
      const wasContent = recordHasContent || recordQuotes > 2;
      recordQuotes = 0;
      const start = recordStart;
      const startLine = recordStartLine;
      recordStart = end;
      recordStartLine = line;
      recordHasContent = false;
      if (!wasContent) return undefined; // an empty line is no record
      if (!seenHeader) {
        seenHeader = true;
        return undefined;
      }
      if (toSkip > 0) {
        toSkip--;
        if (scan.skipped) scan.skipped.count++;
        return undefined;
      }
      if (remaining <= 0) return 'stop';
      if (partStart < 0) {
        partStart = start;
        partLine = startLine;
      }
      partRows++;
      remaining--;
      if (end - partStart >= scan.targetBytes || remaining === 0) {
        const range = { start: partStart, end, line: partLine, rows: partRows };
        partStart = -1;
        partRows = 0;
        return range;
      }
      return undefined;
    };

    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) break;
      // Jump from special byte to special byte with indexOf (native, vectorised) instead of
      // looking at every byte in JS: the scan is the controller's only per-byte work.
      const chunk = bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead);
      let nextQuote = quoteByte < 0 ? -1 : chunk.indexOf(QUOTE, 0);
      let i = 0;
      while (i < bytesRead) {
        if (nextQuote !== -1 && nextQuote < i) nextQuote = chunk.indexOf(QUOTE, i);
        if (inQuotes) {
          // Inside quotes everything is field content; newlines only move the line count.
          const end = nextQuote === -1 ? bytesRead : nextQuote;
          if (end > i) recordHasContent = true;
          for (let at = chunk.indexOf(NEWLINE, i); at !== -1 && at < end; at = chunk.indexOf(NEWLINE, at + 1)) line++;
          if (nextQuote === -1) break;
          // `""` alone is an empty field, which the CSV reader skips as a blank line; `""""` is a quote.
          inQuotes = false;
          recordQuotes++;
          i = nextQuote + 1;
          continue;
        }
        const newline = chunk.indexOf(NEWLINE, i);
        if (nextQuote !== -1 && (newline === -1 || nextQuote < newline)) {
          if (hasContent(chunk, i, nextQuote)) recordHasContent = true;
          inQuotes = true;
          recordQuotes++;
          i = nextQuote + 1;
          continue;
        }
        if (newline === -1) {
          if (hasContent(chunk, i, bytesRead)) recordHasContent = true;
          break;
        }
        if (hasContent(chunk, i, newline)) recordHasContent = true;
        line++;
        const result = endRecord(position + newline + 1);
        if (result === 'stop') return;
        if (result) {
          yield result;
          if (remaining === 0) return;
        }
        i = newline + 1;
      }
      position += bytesRead;
    }
    // The last record may have no newline.
    const result = endRecord(position);
    if (result && result !== 'stop') yield result;
    if (partStart >= 0 && partRows > 0) yield { start: partStart, end: position, line: partLine, rows: partRows };
  } finally {
    await handle.close();
  }
}

/** The parts of a delimited file, each with its columns and read options. */
export async function* splitDelimitedFile(file: string, plan: DelimitedFilePlan, options: DelimitedOptions, split: SplitOptions): AsyncGenerator<DelimitedPart> {
  if (options.encoding === 'utf16le' || options.encoding === 'ucs2') {
    throw new InvalidInputError('E_JOB_INVALID', `${file}: splitting ${options.encoding} files is not supported; convert the file to UTF-8`);
  }
  for await (const range of splitRecords(file, { ...split, quotes: true, hasHeader: plan.hasHeader })) {
    yield { format: 'delimited', file, ...range, columns: plan.columns, options };
  }
}

/** The parts of a JSON-lines file: a newline always ends a record (JSON strings escape theirs). */
export async function* splitJsonLinesFile(file: string, encoding: BufferEncoding, split: SplitOptions): AsyncGenerator<JsonLinesPart> {
  for await (const range of splitRecords(file, { ...split, quotes: false, hasHeader: false })) {
    yield { format: 'json_lines', file, ...range, encoding };
  }
}
