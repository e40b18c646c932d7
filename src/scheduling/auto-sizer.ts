/*
 * `mini_batch_size: auto`: how big the next mini-batch should be so that one run() takes about
 * `target_mini_batch_seconds`, from what the finished ones took. Pure accounting (no clock, no
 * I/O): the run feeds it finished mini-batches, the partitioner asks it for the next size.
 *
 * The unit is whatever the partitioner counts: files for a file list, bytes for a table.
 */
import { median } from './median.js';

export interface AutoSizerSettings {
  /** How long one mini-batch should run, in ms. */
  targetMs: number;
  /** Size of the mini-batches handed out before anything has been measured. */
  initial: number;
  /** Never smaller than this (1 file; a table is cut in grains anyway). */
  minimum: number;
  /** Worker processes of the whole job: near the end no mini-batch is bigger than its share. */
  processes: number;
  /** At most this many times the largest mini-batch measured so far. */
  growthFactor: number;
  /** How many recent measurements the estimate is the median of. */
  window?: number;
}

export type FinishedAs = 'succeeded' | 'timeout' | 'failed';

const DEFAULT_WINDOW = 15;

export class AutoSizer {
  readonly #settings: AutoSizerSettings;
  readonly #window: number;
  /** Amount of every mini-batch handed out and not finished yet, by id. */
  readonly #planned = new Map<number, number>();
  /** Recent ms per unit, oldest first. */
  #rates: number[] = [];
  #largestMeasured = 0;

  constructor(settings: AutoSizerSettings) {
    if (!(settings.targetMs > 0) || !(settings.initial >= settings.minimum) || !(settings.minimum > 0) || !(settings.processes >= 1) || !(settings.growthFactor > 1)) {
      throw new RangeError(`AutoSizer: invalid settings ${JSON.stringify(settings)}`);
    }
    this.#settings = settings;
    this.#window = settings.window ?? DEFAULT_WINDOW;
  }

  /** A mini-batch of `amount` units was handed out (or replayed from the journal on resume). */
  planned(id: number, amount: number): void {
    this.#planned.set(id, amount);
  }

  /**
   * A mini-batch finished in `durationMs` of run() time. A success is a measurement; so is a
   * timeout (a lower bound that pulls the size down, which is what a timeout asks for); any
   * other failure says nothing about speed (a script that throws at once is not fast).
   */
  finished(id: number, durationMs: number, as: FinishedAs): void {
    const amount = this.#planned.get(id);
    this.#planned.delete(id);
    if (amount === undefined || amount <= 0 || as === 'failed' || !(durationMs >= 0)) return;
    this.#rates.push(durationMs / amount);
    if (this.#rates.length > this.#window) this.#rates.shift();
    this.#largestMeasured = Math.max(this.#largestMeasured, amount);
  }

  /** Estimated run() ms per unit (the median of recent mini-batches), once anything finished. */
  get msPerUnit(): number | undefined {
    return median(this.#rates);
  }

  /**
   * Units for the next mini-batch: target / estimated time per unit, but never more than
   * `growthFactor` × the largest one measured (an estimate from small mini-batches is not
   * trusted far beyond them), and, when `remaining` input is known, never more than an equal
   * share of it per process, so the last mini-batches keep every process busy.
   */
  next(remaining?: number): number {
    const { targetMs, initial, minimum, processes, growthFactor } = this.#settings;
    const rate = this.msPerUnit;
    let size: number;
    if (rate === undefined) size = initial;
    else {
      const wanted = rate > 0 ? targetMs / rate : Number.POSITIVE_INFINITY;
      size = Math.min(wanted, this.#largestMeasured * growthFactor);
    }
    if (remaining !== undefined) size = Math.min(size, Math.ceil(remaining / processes));
    return Math.max(minimum, Math.floor(size));
  }
}
