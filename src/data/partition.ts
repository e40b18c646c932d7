import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import { groupAdaptively, type AdaptiveSizing } from './adaptive-partition.js';
import type { MiniBatch } from './descriptors.js';
import { listFileChunks, listFiles } from './file-list.js';
import { partitionTableByKeys } from './partition-by-keys.js';
import type { InputPlan } from './plan-input.js';
import { partitionTableAdaptively, partitionTableBySize } from './table-partition.js';

export interface PartitionContext {
  /** Scratch space of the run (partition shuffles write here). */
  workDir: string;
  onLog?: (level: 'INFO' | 'WARNING', message: string) => void;
  /** How a partition_keys shuffle writes its partitions (CSV when the workers are Python). */
  shuffleFormat?: 'parquet' | 'csv';
  /** Rows that could not be read and belong to no mini-batch. */
  onUnreadableRows?: (count: number, message: string) => void;
  /** `mini_batch_size: auto` (the plan says so): where each next size comes from, and the journal. */
  auto?: AdaptiveSizing;
}

/**
 * Streams the split input as mini-batches, lazily: the scheduler pulls the next one only
 * when it has room, so the first mini-batch runs before the input has been listed in full
 * and controller memory does not grow with the input.
 */
export function partitionInput(job: ResolvedParallelJob, plan: InputPlan, context: PartitionContext): AsyncGenerator<MiniBatch> {
  const { source, split } = plan;
  if (split.kind === 'auto' && !context.auto) throw new Error('partitionInput: mini_batch_size auto without sizing');
  const auto = split.kind === 'auto' ? context.auto : undefined;
  if (source.kind === 'tabular') {
    if (split.kind === 'partitions') return partitionTableByKeys(source, split.keys, context);
    if (split.kind === 'auto' && auto) return partitionTableAdaptively(source, split.grainBytes, auto, context.onLog);
    return partitionTableBySize(source, split.kind === 'bytes' ? split.bytes : Number.POSITIVE_INFINITY, context.onLog);
  }
  const input = job.inputData;
  // An MLTable names its files; a folder is listed as the run goes.
  const known = input.type === 'mltable' ? source.files : input.type === 'uri_file' ? [input.path] : undefined;
  if (auto) {
    // A folder's size is known only once listed: its last mini-batches are not shared out.
    const files = known ? fromArray(known) : listFiles(input.path);
    return groupAdaptively(files, () => 1, known?.length, auto, (id, group) => ({ id, descriptor: { kind: 'files', files: group }, items: group.length }));
  }
  return partitionFiles(known ? fromArray([known]) : listFileChunks(input.path), split.kind === 'files' ? split.count : 1);
}

async function* partitionFiles(chunks: AsyncIterable<readonly string[]>, filesPerMiniBatch: number): AsyncGenerator<MiniBatch> {
  let id = 0;
  let current: string[] = [];
  for await (const chunk of chunks) {
    for (const file of chunk) {
      current.push(file);
      if (current.length === filesPerMiniBatch) {
        yield { id: id++, descriptor: { kind: 'files', files: current }, items: current.length };
        current = [];
      }
    }
  }
  if (current.length > 0) yield { id: id++, descriptor: { kind: 'files', files: current }, items: current.length };
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
