import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { csvField } from '../outputs/row-format.js';
import type { CommittedBatch } from '../store/run-store.js';

const HEADER = 'id,tries,process,start,total,succeeded,failed,seconds,status,error\n';
/** Rows are gathered and written in chunks: one stream write per mini-batch is a hot-path cost. */
const CHUNK_ROWS = 256;

/**
 * `logs/sys/job_report/processed_mini-batches.csv`: one row per committed mini-batch, written
 * as they commit (so in commit order; sort by `id` for input order).
 */
export class ProcessedBatchesReport {
  readonly #stream: WriteStream;
  #rows: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `append`: a resumed run goes on with the file of its earlier sessions. */
  constructor(path: string, append = false) {
    mkdirSync(dirname(path), { recursive: true });
    const continuing = append && existsSync(path);
    this.#stream = createWriteStream(path, { flags: continuing ? 'a' : 'w' });
    if (!continuing) this.#stream.write(HEADER);
  }

  add(batch: CommittedBatch): void {
    const failed = batch.failedItems;
    this.#rows.push(
      `${batch.id},${batch.tries},${batch.worker},${this.#isoTime(batch.startedAt)},${batch.items},${batch.items - failed},${failed},${(batch.durationMs / 1000).toFixed(3)},${batch.status},${csvField(batch.error ?? '')}\n`,
    );
    if (this.#rows.length >= CHUNK_ROWS) this.#write();
    else this.#timer ??= setTimeout(() => this.#write(), 500);
  }

  /** The second's text is kept: most mini-batches of a busy run start within the same second as the last one. */
  #second = Number.NaN;
  #secondText = '';

  #isoTime(startedAt: number): string {
    const ms = Math.floor(startedAt);
    const second = Math.floor(ms / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#secondText = new Date(second * 1000).toISOString().slice(0, -4); // "…T12:34:56."
    }
    return `${this.#secondText}${String(ms - second * 1000).padStart(3, '0')}Z`;
  }

  #write(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#rows.length === 0) return;
    this.#stream.write(this.#rows.join(''));
    this.#rows = [];
  }

  close(): Promise<void> {
    this.#write();
    return new Promise((resolve, reject) => this.#stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}
