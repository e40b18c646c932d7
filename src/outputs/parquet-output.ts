import { closeSync, createReadStream, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import type { ColumnSource, SchemaElement } from 'hyparquet-writer';
import { IllegalStateError } from '../errors.js';

/*
 * The append_row output as Parquet. A column's type can only be known once every row has been
 * seen (an integer column may get a 2.5 or a string in its last row), so rows are not encoded
 * as they come: they are kept in memory up to one row group and, past that, spilled as JSON
 * lines to `<path>.spill` while every column's kinds of values are tracked. `finish()` picks the
 * types, then writes the file one row group at a time (from memory, or read back from the spill),
 * with hyparquet-writer's incremental ParquetWriter. Memory is therefore bounded by one row
 * group (`rowGroupRows` rows or about `MAX_GROUP_BYTES` of values, whichever comes first; a few
 * times that while a group is converted and encoded), whatever the output's size; the price of an
 * output bigger than one group is writing and reading its rows once more as JSON.
 *
 * Columns: the keys of the first object row, in order; later objects are mapped to them
 * (missing keys are null, extra keys are dropped, as in the CSV output). Rows that are not
 * objects (strings, numbers, arrays as JSON text) go to a column `value`, added after the
 * object columns, or shared with an object column of that name. Types: only numbers (and nulls)
 * is INT64 when all are safe integers, else DOUBLE; only booleans is BOOLEAN; anything else,
 * mixed kinds and all-null columns included, is STRING (numbers and booleans as their text,
 * objects and arrays as JSON). Every column is nullable.
 */

export const DEFAULT_ROW_GROUP_ROWS = 100_000;
/** A row group is also cut at about this many bytes of values, for outputs of very wide rows. */
const MAX_GROUP_BYTES = 32 * 1024 * 1024;
/** Rough per-value overhead in memory, on top of a string's characters. */
const CELL_BYTES = 16;
const SPILL_WRITE_BYTES = 4 * 1024 * 1024;

type Cell = string | number | boolean | null;
/** An object row's values, by the object columns; a non-object row is `{ value }`. */
type BufferedRow = Cell[] | { value: Cell };

export interface ParquetRowWriterOptions {
  /** Rows per row group at most (default 100,000). */
  rowGroupRows?: number;
}

export class ParquetRowWriter {
  readonly #path: string;
  readonly #spillPath: string;
  readonly #groupRows: number;
  #objectColumns: string[] | undefined;
  #objectKinds: ValueKinds[] = [];
  /** Kinds of the values of non-object rows; undefined while there are none. */
  #valueKinds: ValueKinds | undefined;
  #buffer: BufferedRow[] = [];
  #bufferBytes = 0;
  #spillFd: number | undefined;
  #rows = 0;
  #state: 'open' | 'finishing' | 'done' = 'open';

  constructor(path: string, options: ParquetRowWriterOptions = {}) {
    const groupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isSafeInteger(groupRows) || groupRows < 1) throw new RangeError(`rowGroupRows must be a positive integer, got ${groupRows}`);
    this.#path = path;
    this.#spillPath = `${path}.spill`;
    this.#groupRows = groupRows;
  }

  add(rows: unknown[]): void {
    if (this.#state !== 'open') throw new IllegalStateError('ParquetRowWriter.add after finish or abort');
    for (const row of rows) {
      let buffered: BufferedRow;
      let bytes = CELL_BYTES;
      if (isPlainObject(row)) {
        if (!this.#objectColumns) {
          this.#objectColumns = Object.keys(row);
          this.#objectKinds = this.#objectColumns.map(() => new ValueKinds());
        }
        const cells: Cell[] = new Array(this.#objectColumns.length);
        for (let column = 0; column < cells.length; column++) {
          const cell = toCell(row[this.#objectColumns[column] as string]);
          (this.#objectKinds[column] as ValueKinds).see(cell);
          if (typeof cell === 'string') bytes += cell.length;
          bytes += CELL_BYTES;
          cells[column] = cell;
        }
        buffered = cells;
      } else {
        const value = toCell(row);
        this.#valueKinds ??= new ValueKinds();
        this.#valueKinds.see(value);
        if (typeof value === 'string') bytes += value.length;
        buffered = { value };
      }
      this.#buffer.push(buffered);
      this.#bufferBytes += bytes;
      this.#rows++;
      if (this.#buffer.length >= this.#groupRows || this.#bufferBytes >= MAX_GROUP_BYTES) this.#spill();
    }
  }

  /** Writes the file at `path` (complete and fsynced when this resolves) and removes the spill. */
  async finish(): Promise<{ rows: number }> {
    if (this.#state !== 'open') throw new IllegalStateError('ParquetRowWriter.finish after finish or abort');
    this.#state = 'finishing';
    try {
      const layout = this.#layout();
      // Loaded when a Parquet output is written: the CLI does not pay for it otherwise.
      const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
      const writer = new ParquetWriter({ writer: fileWriter(this.#path), schema: layout.schema });
      const writeGroup = async (rows: BufferedRow[]) => {
        if (rows.length > 0) await writer.write({ columnData: layout.columnData(rows), rowGroupSize: rows.length });
      };
      if (this.#spillFd === undefined) {
        await writeGroup(this.#buffer);
      } else {
        this.#spill();
        closeSync(this.#spillFd);
        this.#spillFd = undefined;
        this.#buffer = [];
        let group: BufferedRow[] = [];
        let groupBytes = 0;
        // node:readline is loaded here too: ~1 ms of every run's start-up otherwise.
        const { createInterface } = await import('node:readline');
        const lines = createInterface({ input: createReadStream(this.#spillPath), crlfDelay: Infinity });
        for await (const line of lines) {
          group.push(JSON.parse(line) as BufferedRow);
          groupBytes += line.length + CELL_BYTES;
          if (group.length >= this.#groupRows || groupBytes >= MAX_GROUP_BYTES) {
            await writeGroup(group);
            group = [];
            groupBytes = 0;
          }
        }
        await writeGroup(group);
      }
      this.#buffer = [];
      await writer.finish();
      const fd = openSync(this.#path, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return { rows: this.#rows };
    } finally {
      this.#state = 'done';
      this.abort();
    }
  }

  /**
   * Drops the spill (after a failure, or instead of finish). The file at `path`, if finish
   * began writing it, is the caller's to remove, as it owns the name.
   */
  abort(): void {
    if (this.#spillFd !== undefined) {
      try {
        closeSync(this.#spillFd);
      } catch {
        // already closed
      }
      this.#spillFd = undefined;
    }
    rmSync(this.#spillPath, { force: true });
    this.#buffer = [];
    this.#state = 'done';
  }

  #spill(): void {
    this.#spillFd ??= openSync(this.#spillPath, 'w');
    let chunk: string[] = [];
    let chunkLength = 0;
    const write = () => {
      const bytes = Buffer.from(chunk.join(''), 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(this.#spillFd as number, bytes, written, bytes.length - written);
      chunk = [];
      chunkLength = 0;
    };
    for (const row of this.#buffer) {
      const line = `${JSON.stringify(row)}\n`;
      chunk.push(line);
      chunkLength += line.length;
      if (chunkLength >= SPILL_WRITE_BYTES) write();
    }
    if (chunk.length > 0) write();
    this.#buffer = [];
    this.#bufferBytes = 0;
  }

  /** The file's columns and types, once every row has been seen. */
  #layout(): { schema: SchemaElement[]; columnData: (rows: BufferedRow[]) => ColumnSource[] } {
    const names = [...(this.#objectColumns ?? [])];
    const kinds = [...this.#objectKinds];
    let valueColumn = -1;
    if (this.#valueKinds) {
      valueColumn = names.indexOf('value');
      if (valueColumn === -1) {
        valueColumn = names.length;
        names.push('value');
        kinds.push(this.#valueKinds);
      } else {
        (kinds[valueColumn] as ValueKinds).merge(this.#valueKinds);
      }
    }
    // Parquet needs a column; rows of `{}` (or no rows at all) keep their count in a null `value`.
    if (names.length === 0) {
      names.push('value');
      kinds.push(new ValueKinds());
    }
    const types = kinds.map((kind) => kind.type());
    const schema: SchemaElement[] = [{ name: 'root', num_children: names.length }];
    names.forEach((name, column) => schema.push(schemaElement(name, types[column] as ColumnType)));
    const columnData = (rows: BufferedRow[]): ColumnSource[] =>
      names.map((name, column) => {
        const convert = converters[types[column] as ColumnType];
        const data: unknown[] = new Array(rows.length);
        for (let index = 0; index < rows.length; index++) {
          const row = rows[index] as BufferedRow;
          const cell = Array.isArray(row) ? row[column] : column === valueColumn ? row.value : null;
          data[index] = cell === null || cell === undefined ? null : convert(cell);
        }
        return { name, data };
      });
    return { schema, columnData };
  }
}

type ColumnType = 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'STRING';

const converters: Record<ColumnType, (cell: string | number | boolean) => unknown> = {
  INT64: (cell) => BigInt(cell as number),
  DOUBLE: (cell) => cell,
  BOOLEAN: (cell) => cell,
  STRING: (cell) => (typeof cell === 'string' ? cell : String(cell)),
};

function schemaElement(name: string, type: ColumnType): SchemaElement {
  if (type === 'STRING') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  return { name, type, repetition_type: 'OPTIONAL' };
}

/** Which kinds of values a column has held so far. */
class ValueKinds {
  numbers = false;
  integersOnly = true;
  booleans = false;
  strings = false;

  see(cell: Cell): void {
    switch (typeof cell) {
      case 'number':
        this.numbers = true;
        if (this.integersOnly && !Number.isSafeInteger(cell)) this.integersOnly = false;
        break;
      case 'boolean':
        this.booleans = true;
        break;
      case 'string':
        this.strings = true;
        break;
      default:
        break;
    }
  }

  merge(other: ValueKinds): void {
    this.numbers ||= other.numbers;
    this.integersOnly &&= other.integersOnly;
    this.booleans ||= other.booleans;
    this.strings ||= other.strings;
  }

  type(): ColumnType {
    if (this.numbers && !this.booleans && !this.strings) return this.integersOnly ? 'INT64' : 'DOUBLE';
    if (this.booleans && !this.numbers && !this.strings) return 'BOOLEAN';
    return 'STRING';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * A value as one Parquet cell. Rows reach the output through JSON, so NaN and ±Infinity
 * (null in JSON) become null here too.
 */
function toCell(value: unknown): Cell {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return null;
    default:
      break;
  }
  if (value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    // a cycle or a bigint inside: still one readable cell rather than a failed output
    return String(value);
  }
}
