import { setFlagsFromString } from 'node:v8';

/*
 * Imported first by worker-main.ts, so it runs before any other module of the worker is
 * evaluated. A worker lives for a few thousand mini-batches; at V8's default budget its hot path
 * (reading a range, Papa Parse, the IPC round) was still being tiered up at the end of that life:
 * 1 KB delimited mini-batches cost 280 µs each over the first thousand and 37 µs by the fifth.
 * Optimizing after about a quarter of the default budget makes them fast by the second thousand.
 * Measured on W1's lines job (2 workers, 9,091 mini-batches, 7 runs interleaved): 1,571 → 1,307 ms
 * wall, 2,870 → 2,320 ms of the process tree's CPU; the files job was unchanged, and the same flag
 * in the controller (which runs each start-up function once) cost more than it saved.
 * Set at run time, it needs no Node option on the fork.
 */
export const WORKER_INTERRUPT_BUDGET = 15_000;
/** V8's own default in Node 20 (`node --v8-options`). */
export const V8_INTERRUPT_BUDGET = 67_584;
/**
 * When run() itself takes this long on average, the user's code is the work, not ours: V8's
 * default comes back. A JS-heavy run() (~36 ms a mini-batch, 7 runs interleaved) took 3,700 ms
 * of CPU with the low budget throughout against 3,420 ms with V8's default.
 */
const USER_BOUND_RUN_MS = 2;
const RUNS_MEASURED = 16;

/**
 * Which budget stays, from the first RUNS_MEASURED run() times: undefined until then and after
 * it decided; V8's default once, if those runs were user-bound.
 */
export class TierUpPolicy {
  #runs = 0;
  #runMsTotal = 0;

  note(runMs: number): number | undefined {
    if (this.#runs >= RUNS_MEASURED) return undefined;
    this.#runs++;
    this.#runMsTotal += runMs;
    return this.#runs === RUNS_MEASURED && this.#runMsTotal / this.#runs > USER_BOUND_RUN_MS ? V8_INTERRUPT_BUDGET : undefined;
  }
}

setFlagsFromString(`--interrupt-budget=${WORKER_INTERRUPT_BUDGET}`);
const policy = new TierUpPolicy();

/** Told each run()'s duration (with its loading), in the worker. */
export function noteRunTime(runMs: number): void {
  const budget = policy.note(runMs);
  if (budget !== undefined) setFlagsFromString(`--interrupt-budget=${budget}`);
}
