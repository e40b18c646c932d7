import type { ResolvedParallelJob } from '../spec/resolve-job.js';
import type { MiniBatch } from './descriptors.js';
import { listFiles } from './file-list.js';
import { partitionTableByKeys } from './partition-by-keys.js';
import type { InputPlan } from './plan-input.js';
import { partitionTableBySize } from './table-partition.js';

export interface PartitionContext {
  /** Scratch space of the run (partition shuffles write here). */
  workDir: string;
  onLog?: (level: 'INFO' | 'WARNING', message: string) => void;
  /** How a partition_keys shuffle writes its partitions (CSV when the workers are Python). */
  shuffleFormat?: 'parquet' | 'csv';
  /** Rows that could not be read and belong to no mini-batch. */
  onUnreadableRows?: (count: number, message: string) => void;
}

/**
 * Streams the split input as mini-batches, lazily: the scheduler pulls the next one only
 * when it has room, so the first mini-batch runs before the input has been listed in full
 * and controller memory does not grow with the input.
 */
export function partitionInput(job: ResolvedParallelJob, plan: InputPlan, context: PartitionContext): AsyncGenerator<MiniBatch> {
  const { source, split } = plan;
  if (source.kind === 'tabular') {
    return split.kind === 'partitions' ? partitionTableByKeys(source, split.keys, context) : partitionTableBySize(source, split.kind === 'bytes' ? split.bytes : Number.POSITIVE_INFINITY, context.onLog);
  }
  const count = split.kind === 'files' ? split.count : 1;
  const input = job.inputData;
  // An MLTable names its files; a folder is listed as the run goes.
  const files = input.type === 'mltable' ? fromArray(source.files) : input.type === 'uri_file' ? fromArray([input.path]) : listFiles(input.path);
  return partitionFiles(files, count);
}

async function* partitionFiles(files: AsyncIterable<string>, filesPerMiniBatch: number): AsyncGenerator<MiniBatch> {
  let id = 0;
  let current: string[] = [];
  for await (const file of files) {
    current.push(file);
    if (current.length === filesPerMiniBatch) {
      yield { id: id++, descriptor: { kind: 'files', files: current }, items: current.length };
      current = [];
    }
  }
  if (current.length > 0) yield { id: id++, descriptor: { kind: 'files', files: current }, items: current.length };
}

async function* fromArray(files: readonly string[]): AsyncGenerator<string> {
  yield* files;
}
