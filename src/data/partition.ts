import type { ResolvedAssetInput } from '../spec/resolve-job.js';
import type { MiniBatch } from './descriptors.js';
import { listFiles } from './file-list.js';

/**
 * Streams the split input as mini-batches, lazily: the scheduler pulls the next one only
 * when it has room, so the first mini-batch runs before the input has been listed in full
 * and controller memory does not grow with the input.
 */
export async function* partitionInput(input: ResolvedAssetInput, filesPerMiniBatch: number): AsyncGenerator<MiniBatch> {
  const files = input.type === 'uri_file' ? single(input.path) : listFiles(input.path);
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

async function* single(path: string): AsyncGenerator<string> {
  yield path;
}
