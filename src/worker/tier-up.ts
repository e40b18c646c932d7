import { setFlagsFromString } from 'node:v8';

/*
 * Imported first by worker-main.ts, so it runs before any other module of the worker is
 * evaluated. A worker lives for a few thousand mini-batches; at V8's default budget its hot path
 * (reading a range, Papa Parse, the IPC round) was still being tiered up at the end of that life:
 * 1 KB delimited mini-batches cost 280 µs each over the first thousand and 37 µs by the fifth.
 * Optimizing after ~1/9 of the default budget makes them fast by the second thousand.
 * Measured on W1's lines job (2 workers, 9,091 mini-batches, 7 runs interleaved): 1,571 → 1,307 ms
 * wall, 2,870 → 2,320 ms of the process tree's CPU; the files job was unchanged, and the same flag
 * in the controller (which runs each start-up function once) cost more than it saved.
 * The user's run() benefits alike; set at run time, it needs no Node option on the fork.
 */
export const WORKER_INTERRUPT_BUDGET = 15_000;

setFlagsFromString(`--interrupt-budget=${WORKER_INTERRUPT_BUDGET}`);
