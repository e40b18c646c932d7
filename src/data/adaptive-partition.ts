import { MinibatchError } from '../errors.js';
import type { MiniBatch, MiniBatchBoundary } from './descriptors.js';

/** What `mini_batch_size: auto` needs from the run while the input is cut. */
export interface AdaptiveSizing {
  /** Amount (files, or bytes of a table) the next mini-batch should hold; `remaining` when the input's size is known. */
  nextAmount(remaining: number | undefined): number;
  /** Boundaries journaled by an earlier session of this run, in id order: replayed first, as they were. */
  readonly replay: readonly MiniBatchBoundary[];
  /** A new mini-batch is about to be handed out: journal it now, before it can run (and commit). */
  onBoundary(boundary: MiniBatchBoundary): void;
}

/**
 * Cuts a stream of grains (files, or pieces of a table) into mini-batches whose size is asked
 * of `sizing` when each is pulled, so it follows the latest measurements. A resumed run first
 * replays its journaled boundaries (same ids, same grains), then goes on adaptively.
 */
export async function* groupAdaptively<T>(
  grains: AsyncIterable<T>,
  amountOf: (grain: T) => number,
  total: number | undefined,
  sizing: AdaptiveSizing,
  make: (id: number, grains: T[]) => MiniBatch,
): AsyncGenerator<MiniBatch> {
  const source = grains[Symbol.asyncIterator]();
  let id = 0;
  let index = 0;
  let consumed = 0;
  for (const boundary of sizing.replay) {
    // Journaled in id order, each starting where the previous ended: anything else is not ours.
    if (boundary.id !== id || boundary.first !== index || !(boundary.count > 0)) {
      throw new MinibatchError('E_STORE_CORRUPT', `the journal's mini-batch boundary ${JSON.stringify(boundary)} does not follow mini-batch ${id - 1} (expected id ${id} from grain ${index})`);
    }
    const group: T[] = [];
    while (group.length < boundary.count) {
      const next = await source.next();
      if (next.done) break;
      group.push(next.value);
      consumed += amountOf(next.value);
    }
    // Only an input changed since (resumed with --allow-changes) can end early.
    if (group.length === 0) return;
    index += group.length;
    yield make(id++, group);
  }
  for (;;) {
    const target = sizing.nextAmount(total === undefined ? undefined : Math.max(0, total - consumed));
    const group: T[] = [];
    let amount = 0;
    while (group.length === 0 || amount < target) {
      const next = await source.next();
      if (next.done) break;
      group.push(next.value);
      amount += amountOf(next.value);
    }
    if (group.length === 0) return;
    sizing.onBoundary({ id, first: index, count: group.length, amount });
    index += group.length;
    consumed += amount;
    yield make(id++, group);
  }
}
