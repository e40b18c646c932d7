import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { papaParse } from '../data/papa-parse.js';
import type { ResolvedAppendRow } from '../spec/resolve-job.js';
import type { CommittedBatch, RunStore } from '../store/run-store.js';
import { ParquetRowWriter } from './parquet-output.js';
import { RowFormatter, csvField } from './row-format.js';

const WRITE_CHUNK_BYTES = 1 << 20;

/**
 * Writes the append_row file while the job runs: rows in mini-batch order then element order,
 * so the result is the same whatever order the workers finished in. Each committed mini-batch
 * that is next in line is formatted and appended at once (the controller is idle most of a run;
 * leaving it all to the end doubled a job's wall time); those that finish early wait in the run
 * store's spool. Everything goes to a temporary name beside the target, fsynced and renamed at
 * the end: the target is complete or absent.
 */
export class AppendRowWriter {
  readonly #store: RunStore;
  readonly #target: string;
  readonly #temporary: string;
  readonly #formatter: RowFormatter;
  readonly #parquet: ParquetRowWriter | undefined;
  #fd: number | undefined;
  #next = 0;
  #rows = 0;
  #bytes = 0;
  /** Small mini-batches' rows, gathered to be written WRITE_CHUNK_BYTES at a time. */
  #chunk: Buffer | undefined;
  #chunkBytes = 0;
  #draining: Promise<void> = Promise.resolve();
  #drainRunning = false;
  /** Committed mini-batches whose rows the worker formatted, until they are written: columns and row count. */
  readonly #formatted = new Map<number, { columns: string[] | undefined; rows: number }>();
  readonly #header: boolean;
  #columns: string[] | undefined;
  #state: 'open' | 'done' = 'open';

  constructor(store: RunStore, appendRow: ResolvedAppendRow) {
    this.#store = store;
    this.#target = appendRow.path;
    this.#temporary = `${appendRow.path}.minibatch-partial`;
    mkdirSync(dirname(appendRow.path), { recursive: true });
    this.#formatter = new RowFormatter(appendRow.format, appendRow.header);
    this.#header = appendRow.header;
    if (appendRow.format === 'parquet') this.#parquet = new ParquetRowWriter(this.#temporary);
    else this.#fd = openSync(this.#temporary, 'w');
    // A hard exit (a second Ctrl-C) must not leave a partial file behind either.
    process.on('exit', this.#removeOnExit);
  }

  readonly #removeOnExit = (): void => {
    rmSync(this.#temporary, { force: true });
    rmSync(`${this.#temporary}.spill`, { force: true });
  };

  /** A mini-batch was committed: write every mini-batch that is now next in line. */
  committed(batch: CommittedBatch): void {
    if (this.#state !== 'open') return;
    if (batch.formatted) this.#formatted.set(batch.id, { columns: batch.formatted.columns, rows: batch.returned });
    // One drain at a time: a commit while it waits for the flush is written by its loop (a drain
    // chained per commit was three promises per mini-batch for nothing).
    if (batch.id !== this.#next || this.#drainRunning) return;
    this.#draining = this.#draining.then(() => this.#drain());
  }

  async #drain(): Promise<void> {
    this.#drainRunning = true;
    try {
      while (this.#state === 'open' && this.#store.isCommitted(this.#next)) {
        if (!this.#store.isFlushed(this.#next)) {
          await this.#store.flushed();
          continue; // looked at again after the wait
        }
        const id = this.#next;
        const bytes = this.#store.readRows(id);
        const formatted = this.#formatted.get(id);
        this.#formatted.delete(id);
        this.#next++;
        if (bytes.length === 0) continue;
        if (formatted && !this.#needsAlignment(formatted.columns)) {
          // The common case: the worker's text goes out as bytes, never decoded here.
          this.#appendBytes(bytes, formatted.rows);
          continue;
        }
        const jsonLines = bytes.toString('utf8');
        if (formatted) {
          this.#append(this.#alignColumns(jsonLines, formatted.columns), formatted.rows);
          continue;
        }
        if (this.#parquet) {
          const values = jsonLines.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as unknown);
          this.#parquet.add(values);
          this.#rows += values.length;
          continue;
        }
        this.#append(this.#formatter.formatJsonLines(jsonLines), countLines(jsonLines));
      }
    } finally {
      // Reset in the same step as the loop's last check: a commit after it starts a new drain.
      this.#drainRunning = false;
    }
  }

  #append(text: string, rows: number): void {
    this.#appendBytes(Buffer.from(text, 'utf8'), rows);
  }

  #appendBytes(bytes: Buffer, rows: number): void {
    this.#rows += rows;
    if (bytes.length >= WRITE_CHUNK_BYTES) {
      // A mini-batch's worth of rows (often megabytes) goes out as it is, not copied first.
      this.#writeBuffer();
      this.#write(bytes);
      return;
    }
    // The read window is reused: the bytes are copied into the chunk that gathers them.
    if (this.#chunkBytes + bytes.length > WRITE_CHUNK_BYTES) this.#writeBuffer();
    this.#chunk ??= Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
    this.#chunkBytes += bytes.copy(this.#chunk, this.#chunkBytes);
  }

  /** Whether rows formatted with `columns` must be re-laid out (or fix the columns, or need the header). */
  #needsAlignment(columns: string[] | undefined): boolean {
    if (!columns) return false;
    const established = this.#columns;
    return !established || columns.length !== established.length || !columns.every((name, index) => name === established[index]);
  }

  /**
   * Rows a worker formatted as CSV with its own columns: the first such mini-batch in order
   * fixes the file's columns (and writes the header, when asked); a later one whose columns
   * differ (another key order, other keys) is re-laid out to them.
   */
  #alignColumns(text: string, columns: string[] | undefined): string {
    if (!columns) return text;
    if (!this.#columns) {
      this.#columns = columns;
      return this.#header ? `${columns.map(csvField).join(',')}\n${text}` : text;
    }
    const established = this.#columns;
    if (columns.length === established.length && columns.every((name, index) => name === established[index])) return text;
    const position = new Map(columns.map((name, index) => [name, index]));
    const records = papaParse().parse<string[]>(text, { skipEmptyLines: true }).data;
    let out = '';
    for (const record of records) {
      if (record.length !== columns.length) {
        out += `${record.map(csvField).join(',')}\n`;
        continue;
      }
      out += `${established.map((name) => csvField(record[position.get(name) ?? -1] ?? '')).join(',')}\n`;
    }
    return out;
  }

  #writeBuffer(): void {
    if (this.#chunkBytes === 0 || this.#fd === undefined || !this.#chunk) return;
    this.#write(this.#chunk.subarray(0, this.#chunkBytes));
    this.#chunkBytes = 0;
  }

  #write(chunk: Buffer): void {
    if (this.#fd === undefined) return;
    let written = 0;
    while (written < chunk.length) written += writeSync(this.#fd, chunk, written, chunk.length - written);
    this.#bytes += chunk.length;
  }

  /** All `batchCount` mini-batches are committed: write what is left, fsync, rename. */
  async finish(batchCount: number): Promise<{ path: string; rows: number; bytes: number }> {
    await this.#draining;
    await this.#store.flush();
    await this.#drain();
    if (this.#next < batchCount) throw new Error(`append_row: mini-batch ${this.#next} of ${batchCount} was never committed`);
    this.#state = 'done';
    if (this.#parquet) {
      await this.#parquet.finish();
    } else if (this.#fd !== undefined) {
      this.#writeBuffer();
      fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    renameSync(this.#temporary, this.#target);
    process.off('exit', this.#removeOnExit);
    return { path: this.#target, rows: this.#rows, bytes: this.#parquet ? statSync(this.#target).size : this.#bytes };
  }

  /** The job did not succeed: no output file, not even a partial one. */
  async abort(): Promise<void> {
    this.#state = 'done';
    await this.#draining.catch(() => {});
    if (this.#fd !== undefined) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    this.#parquet?.abort();
    rmSync(this.#temporary, { force: true });
    process.off('exit', this.#removeOnExit);
  }
}

function countLines(text: string): number {
  let count = 0;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) count++;
  return text.endsWith('\n') || text.length === 0 ? count : count + 1;
}
