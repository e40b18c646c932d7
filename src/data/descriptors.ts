/**
 * What the controller hands a worker: a small description of a mini-batch's data, never the
 * data itself. The worker reads what the descriptor names. (Tabular byte ranges and
 * partition keys join this union in later versions.)
 */
export type MiniBatchDescriptor = { kind: 'files'; files: string[] };

/** A mini-batch as scheduled: its id is its position in the input, which fixes output order. */
export interface MiniBatch {
  readonly id: number;
  readonly descriptor: MiniBatchDescriptor;
  /** Items in the mini-batch (files, rows), for failed-item accounting. */
  readonly items: number;
}

export function itemCount(descriptor: MiniBatchDescriptor): number {
  return descriptor.files.length;
}
