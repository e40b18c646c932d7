import { isAscii, isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import type Papa from 'papaparse';
import type { ColumnSpec, DelimitedPart, JsonLinesPart } from './descriptors.js';
import { papaParse } from './papa-parse.js';

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
 * Reads exactly the bytes of a part and decodes them: the worker never reads outside its range.
 * Synchronous on purpose, as the file checks in load-mini-batch.ts: three thread-pool round
 * trips (open, read, close) per mini-batch cost a worker more than the read itself (measured:
 * ~140 µs a mini-batch of 1 KB on W1's lines, 40 % of the worker's time); a read that hangs is
 * still ended by the controller's kill at the run timeout.
 */
function readRangeText(file: string, start: number, end: number, encoding: BufferEncoding, firstLine: number): string {
  const bytes = readRange(file, start, end);
  return decodeRange(bytes, encoding, file, firstLine);
}

function readRange(file: string, start: number, end: number): Buffer {
  const length = end - start;
  const buffer = Buffer.allocUnsafe(length);
  const fd = openFile(file);
  let read = 0;
  while (read < length) {
    const bytesRead = readSync(fd, buffer, read, length - read, start + read);
    if (bytesRead === 0) throw new Error(`${file}: the file is shorter than when it was split (expected bytes ${start}-${end})`);
    read += bytesRead;
  }
  return buffer;
}

/**
 * The file the last range came from stays open: a worker reads range after range of one file,
 * and opening and closing it for each was a quarter of a 1 KB mini-batch's time (W1 lines,
 * measured). One descriptor at most; it closes when a range of another file is read.
 */
let lastOpened: { file: string; fd: number } | undefined;

function openFile(file: string): number {
  if (lastOpened?.file === file) return lastOpened.fd;
  const fd = openSync(file, 'r');
  if (lastOpened) closeSync(lastOpened.fd);
  lastOpened = { file, fd };
  return fd;
}

/**
 * Decodes a range. With a UTF-8 file, bytes that are not UTF-8 fail the read with the line
 * they are on, instead of turning silently into U+FFFD.
 */
function decodeRange(bytes: Buffer, encoding: BufferEncoding, file: string, firstLine: number): string {
  if (encoding !== 'utf8' && encoding !== 'utf-8') return bytes.toString(encoding);
  // ASCII (most data files) is copied as one-byte text: ~6x faster than decoding UTF-8 (10 MB range, measured).
  if (isAscii(bytes)) return bytes.toString('latin1');
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
 *
 * Papa Parse hands over one record at a time (`step`), so only the typed rows outlive the
 * parse: collecting all its records first kept 100k arrays of field strings alive through the
 * young-generation collections of a 10 MB range, and the garbage collector then took a third
 * of a worker's time (W3, measured).
 *
 * Synchronous: the range is read with readSync, so nothing could interrupt it anyway.
 */
export function readDelimitedPart(part: DelimitedPart): ReadRows {
  const decoded = readRangeText(part.file, part.start, part.end, part.options.encoding, part.line);
  const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded; // a BOM is no data (any encoding)
  const names = part.columns.map((column) => column.name);
  const makeRow = rowMakerFor(part);
  const rows: Record<string, unknown>[] = [];
  const problems: RowProblem[] = [];
  const lines = new LineCounter(text, part.line);
  let recordStart = 0;
  let quoteLine: number | undefined;
  // Empty lines are skipped here, not by Papa Parse, so that every record's position is known.
  const onRecord = (record: string[], cursor: number, errors: Papa.ParseError[], linebreak: string): void => {
    const start = recordStart;
    recordStart = cursor; // just past this record's line break: where the next one starts
    if (record.length === 1 && record[0] === '') return; // an empty line is no record
    const quoteError = errors.find((error) => error.type === 'Quotes');
    if (quoteError) {
      const line = lines.at(start, linebreak);
      quoteLine ??= line;
      problems.push({ file: part.file, line, message: QUOTE_PROBLEMS[quoteError.code] ?? `malformed quotes (${quoteError.code})` });
    } else if (record.length !== names.length) {
      problems.push({ file: part.file, line: lines.at(start, linebreak), message: `expected ${names.length} fields, got ${record.length}` });
    } else {
      rows.push(makeRow(record));
    }
  };
  if (!text.includes('\r')) {
    /*
     * With \n line breaks, Papa Parse's own core parser is called directly: Papa.parse wraps it
     * in a streamer and a handle and copies the config for every call, which cost a 1 KB
     * mini-batch more than the parse (W1 lines, profiled). With no header, typing or transform,
     * the handle passes each record on unchanged; its step gets `data` as a one-record list.
     */
    const parser = new (papaParse().Parser)({
      delimiter: part.options.delimiter,
      newline: '\n',
      step: (results: Papa.ParseStepResult<string[][]>) => onRecord(results.data[0] ?? [''], results.meta.cursor, results.errors, '\n'),
    });
    parser.parse(text, 0, false);
  } else {
    // Papa Parse guesses the line break (\r\n or \r) from the text.
    papaParse().parse<string[]>(text, {
      delimiter: part.options.delimiter,
      skipEmptyLines: false,
      step: (results) => onRecord(results.data, results.meta.cursor, results.errors, results.meta.linebreak),
    });
  }
  // A malformed quote can swallow records the splitter counted apart: each is a failed item too.
  for (let missing = part.rows - rows.length - problems.length; quoteLine !== undefined && missing > 0; missing--) {
    problems.push({ file: part.file, line: quoteLine, message: 'a row read into the malformed quoted field of this line' });
  }
  return { columns: names, rows, problems };
}

/**
 * The row maker of a part's columns, made once per column list: compiling one per mini-batch
 * took ~10 µs of a 1 KB mini-batch, and rows of every mini-batch now share one shape.
 */
function rowMakerFor(part: DelimitedPart): (record: string[]) => Record<string, unknown> {
  const key = JSON.stringify([part.columns.map((column) => [column.name, column.type]), part.options.emptyAsString]);
  let maker = rowMakers.get(key);
  if (!maker) {
    if (rowMakers.size >= ROW_MAKERS) rowMakers.clear(); // a job has one column list, or a few
    maker = rowMaker(part.columns.map((column) => column.name), part.columns.map((column) => converterFor(column, part.options.emptyAsString)));
    rowMakers.set(key, maker);
  }
  return maker;
}

const ROW_MAKERS = 64;
const rowMakers = new Map<string, (record: string[]) => Record<string, unknown>>();

/**
 * Row objects built by one function with every column in an object literal, so all rows share
 * one shape with the fields inside the object (assigning them one by one to `{}` spilled the
 * fifth and later into a second allocation per row). A header naming `__proto__` would set the
 * prototype in a literal: such files take the slow path.
 */
function rowMaker(names: string[], converters: Converter[]): (record: string[]) => Record<string, unknown> {
  if (names.includes('__proto__')) {
    return (record) => {
      const row: Record<string, unknown> = {};
      // Defined, not assigned: assigning `__proto__` would set the prototype, and the column would be lost.
      for (let column = 0; column < names.length; column++) Object.defineProperty(row, names[column] as string, { value: (converters[column] as Converter)(record[column] as string), enumerable: true, writable: true, configurable: true });
      return row;
    };
  }
  // The names are data, written as JSON string literals; the converters are parameters.
  const fields = names.map((name, column) => `${JSON.stringify(name)}: c${column}(record[${column}])`).join(', ');
  const factory = new Function(...converters.map((_, column) => `c${column}`), `return (record) => ({ ${fields} });`) as (...converters: Converter[]) => (record: string[]) => Record<string, unknown>;
  return factory(...converters);
}

/** The line a position of a range is on, counting line breaks (also inside quoted fields) from the last position asked. */
class LineCounter {
  #at = 0;
  #line: number;

  constructor(
    private readonly text: string,
    firstLine: number,
  ) {
    this.#line = firstLine;
  }

  /** Positions are asked in increasing order (records in file order): each byte is scanned once. */
  at(position: number, linebreak: string): number {
    const text = this.text;
    for (let found = text.indexOf(linebreak, this.#at); found !== -1 && found < position; found = text.indexOf(linebreak, found + linebreak.length)) this.#line++;
    this.#at = position;
    return this.#line;
  }
}

/** Parses a JSON-lines part: one object per line; a line that is not a JSON object is a failed item. */
export function readJsonLinesPart(part: JsonLinesPart): ReadRows {
  const text = readRangeText(part.file, part.start, part.end, part.encoding, part.line);
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
