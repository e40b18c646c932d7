import { stringify } from 'csv-stringify/sync';
import type { AppendRowFormat } from '../spec/resolve-job.js';

/**
 * Turns returned elements into output lines, as DESIGN.md §7 says: strings as lines, arrays
 * space-joined, objects as CSV rows (or every element as JSON with the jsonl format). The
 * CSV columns are fixed by the first object row written, so they are the same in every row.
 */
export class RowFormatter {
  readonly #format: AppendRowFormat;
  readonly #header: boolean;
  #columns: string[] | undefined;

  constructor(format: AppendRowFormat, header: boolean) {
    this.#format = format;
    this.#header = header;
  }

  /** Formats one mini-batch's rows, given as JSON lines; returns the output text for them. */
  formatJsonLines(jsonLines: string): string {
    if (jsonLines.length === 0) return '';
    if (this.#format === 'jsonl') return jsonLines.endsWith('\n') ? jsonLines : `${jsonLines}\n`;
    const values = jsonLines.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as unknown);
    return this.format(values);
  }

  format(values: readonly unknown[]): string {
    if (this.#format === 'jsonl') return values.map((value) => `${JSON.stringify(value ?? null)}\n`).join('');
    let out = '';
    let csvRows: unknown[][] = [];
    const flushCsv = () => {
      if (csvRows.length > 0) out += stringify(csvRows);
      csvRows = [];
    };
    for (const value of values) {
      if (isPlainObject(value)) {
        if (!this.#columns) {
          this.#columns = Object.keys(value);
          if (this.#header) csvRows.push(this.#columns);
        }
        csvRows.push(this.#columns.map((column) => cell(value[column])));
        continue;
      }
      if (this.#format === 'csv') {
        csvRows.push(Array.isArray(value) ? value.map(cell) : [cell(value)]);
        continue;
      }
      flushCsv();
      out += `${textLine(value)}\n`;
    }
    flushCsv();
    return out;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cell(value: unknown): unknown {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return String(value); // csv-stringify would write 1 and ''
  return typeof value === 'object' ? JSON.stringify(value) : value;
}

function textLine(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((element) => (typeof element === 'object' && element !== null ? JSON.stringify(element) : String(element ?? ''))).join(' ');
  return String(value);
}
