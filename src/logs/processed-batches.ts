import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { CommittedBatch } from '../store/run-store.js';

const HEADER = ['id', 'tries', 'process', 'start', 'total', 'succeeded', 'failed', 'seconds', 'status', 'error'];

/**
 * `logs/sys/job_report/processed_mini-batches.csv`: one row per committed mini-batch, written
 * as they commit (so in commit order; sort by `id` for input order).
 */
export class ProcessedBatchesReport {
  readonly #stream: WriteStream;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.#stream = createWriteStream(path);
    this.#stream.write(stringify([HEADER]));
  }

  add(batch: CommittedBatch): void {
    const failed = batch.items - Math.min(batch.items, batch.returned);
    this.#stream.write(
      stringify([[batch.id, batch.tries, batch.worker, new Date(batch.startedAt).toISOString(), batch.items, batch.items - failed, failed, (batch.durationMs / 1000).toFixed(3), batch.status, batch.error ?? '']]),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.#stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}
