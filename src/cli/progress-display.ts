import type { ProgressSnapshot } from '../scheduling/scheduler.js';
import { formatClock } from '../logs/format-duration.js';

/**
 * The live progress line: a redrawn bar on a TTY (at most 10 times a second), plain lines
 * every few seconds otherwise (CI logs, pipes).
 */
export class ProgressDisplay {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #plainIntervalMs: number;
  #last: ProgressSnapshot | undefined;
  #lastDrawn = 0;
  #drawnOnTty = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream, plainIntervalMs = 5000) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#plainIntervalMs = plainIntervalMs;
  }

  start(snapshot: () => ProgressSnapshot): void {
    this.#timer = setInterval(() => this.update(snapshot()), this.#tty ? 250 : this.#plainIntervalMs);
    this.#timer.unref();
  }

  update(snapshot: ProgressSnapshot): void {
    this.#last = snapshot;
    const now = performance.now();
    if (this.#tty) {
      if (now - this.#lastDrawn < 100) return;
      this.#lastDrawn = now;
      this.#stream.write(`\r\x1b[K${progressLine(snapshot, true)}`);
      this.#drawnOnTty = true;
    } else if (now - this.#lastDrawn >= this.#plainIntervalMs) {
      this.#lastDrawn = now;
      this.#stream.write(`${progressLine(snapshot, false)}\n`);
    }
  }

  /** Print a message above the bar without garbling it. */
  message(text: string): void {
    if (this.#tty && this.#drawnOnTty) this.#stream.write('\r\x1b[K');
    this.#stream.write(`${text}\n`);
    if (this.#tty && this.#last) this.#stream.write(progressLine(this.#last, true));
  }

  stop(final?: ProgressSnapshot): void {
    clearInterval(this.#timer);
    const last = final ?? this.#last;
    if (this.#tty && this.#drawnOnTty) this.#stream.write('\r\x1b[K');
    if (last) this.#stream.write(`${progressLine(last, this.#tty)}\n`);
  }
}

export function progressLine(snapshot: ProgressSnapshot, bar: boolean): string {
  const finished = snapshot.succeededBatches + snapshot.failedBatches;
  const total = snapshot.totalBatches;
  const width = 24;
  const filled = total ? Math.round((finished / Math.max(total, 1)) * width) : 0;
  const barText = bar ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
  const of = total === undefined ? `${finished}/${snapshot.scheduledBatches}+` : `${finished}/${total}`;
  const parts = [
    `${barText}${of} mini-batches`,
    `done ${snapshot.succeededBatches}`,
    `failed ${snapshot.failedBatches}`,
    `retrying ${snapshot.retrying}`,
    `items ${snapshot.succeededItems} ok/${snapshot.failedItems} failed`,
    `${snapshot.batchesPerSecond.toFixed(1)}/s`,
    `ETA ${snapshot.etaMs === undefined ? '?' : formatClock(snapshot.etaMs)}`,
  ];
  return parts.join('  ');
}
