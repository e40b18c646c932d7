import type { AppendRowFormat } from '../spec/resolve-job.js';

/**
 * Turns returned elements into output lines, as DESIGN.md §7 says: strings as lines, arrays
 * space-joined, objects as CSV rows (or every element as JSON with the jsonl format). The
 * CSV columns are fixed by the first object row written, so they are the same in every row.
 * This runs in the controller for every output row, so it formats line by line, without
 * building arrays of values or calling a general-purpose CSV writer per row.
 */
export class RowFormatter {
  readonly #format: AppendRowFormat;
  readonly #header: boolean;
  #columns: string[] | undefined;

  constructor(format: AppendRowFormat, header: boolean) {
    this.#format = format;
    this.#header = header;
  }

  /** The CSV columns, once an object row has fixed them. */
  get columns(): readonly string[] | undefined {
    return this.#columns;
  }

  /** Formats one mini-batch's rows, given as JSON lines; returns the output text for them. */
  formatJsonLines(jsonLines: string): string {
    if (jsonLines.length === 0) return '';
    if (this.#format === 'jsonl') return jsonLines.endsWith('\n') ? jsonLines : `${jsonLines}\n`;
    let out = '';
    let start = 0;
    while (start < jsonLines.length) {
      let end = jsonLines.indexOf('\n', start);
      if (end === -1) end = jsonLines.length;
      if (end > start) out += this.#line(JSON.parse(jsonLines.slice(start, end)) as unknown);
      start = end + 1;
    }
    return out;
  }

  format(values: readonly unknown[]): string {
    if (this.#format === 'jsonl') return values.map((value) => `${JSON.stringify(value ?? null, jsonSafe)}\n`).join('');
    let out = '';
    for (const value of values) out += this.#line(value);
    return out;
  }

  /** One output line (two for the first object row when a header is asked for). */
  #line(value: unknown): string {
    if (isPlainObject(value)) {
      let prefix = '';
      if (!this.#columns) {
        this.#columns = Object.keys(value);
        if (this.#header) prefix = `${this.#columns.map(csvField).join(',')}\n`;
      }
      const columns = this.#columns;
      let line = '';
      for (let index = 0; index < columns.length; index++) {
        if (index > 0) line += ',';
        line += csvCell(value[columns[index] as string]);
      }
      return `${prefix}${line}\n`;
    }
    if (this.#format === 'csv') return `${Array.isArray(value) ? value.map(csvCell).join(',') : csvCell(value)}\n`;
    return `${textLine(value)}\n`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 4180 quoting, only where a field needs it. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/*
 * Values are formatted as they would be after a JSON round trip (the Python bridge's rows,
 * and JS rows formatted in the controller, take that path): dates as ISO text, bigints as
 * digits, objects as JSON.
 */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return csvField(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return csvField(JSON.stringify(value, jsonSafe));
  return String(value);
}

function textLine(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((element) => (element instanceof Date ? element.toISOString() : typeof element === 'object' && element !== null ? JSON.stringify(element, jsonSafe) : String(element ?? ''))).join(' ');
  if (typeof value === 'object') return JSON.stringify(value, jsonSafe);
  return String(value);
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
